"""The agent cockpit and the supervisor board in a real browser, over a real server.

Take a look at the screenshots (EMPATHY_SCREENSHOTS=dir): would an agent read the card in two
seconds?
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from empathy_engine.client import SyncCallStream
from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.browser.scripted import ScriptedCardsEngine
from tests.service.helpers import demo_conversation, header
from tests.service.servers import ThreadedServer


def served(url: str, engine: Engine) -> ThreadedServer:
    return ThreadedServer(create_app(Settings(database_url=url, board_interval_s=0.1), engine=engine))


def card_selector(card_id: str) -> str:
    return f'#card[data-card-id="{card_id}"]'


def test_cockpit_shows_the_card_large_and_it_changes_with_the_call(
    page: Any, engine: Engine, sqlite_url: str, screenshots: Path
) -> None:
    conversation = demo_conversation("holiday_furnace")
    turns = conversation["turns"]
    with served(sqlite_url, ScriptedCardsEngine(model=engine.text.model)) as server:
        page.goto(f"{server.base_url}/agent/cockpit-1")
        page.wait_for_selector('#conn[data-status="waiting"]')
        with SyncCallStream.connect(server.base_url, "cockpit-1") as call:
            call.start(header(conversation))
            page.wait_for_selector("#customer-name:has-text('[NAME]')")  # the name is PII: masked at the edge
            assert "tech no-show" in page.inner_text("#contacts")
            call.say(turns[0]["speaker"], turns[0]["text"], turns[0]["t"])
            first = call.say(turns[1]["speaker"], turns[1]["text"], turns[1]["t"])
            card = first["cues"][0]
            page.wait_for_selector(card_selector(card["id"]))
            assert page.inner_text("#card-say") == f"“{card['say']}”"
            assert page.inner_text("#card-do") == card["do"]
            assert page.get_attribute("#state", "data-state") == first["primary"]
            # At a glance: the phrase is big and the whole card fits a laptop screen unscrolled.
            size = page.eval_on_selector("#card-say", "e => parseFloat(getComputedStyle(e).fontSize)")
            box = page.locator("#card").bounding_box()
            assert size >= 28 and box["y"] + box["height"] <= 768
            page.screenshot(path=str(screenshots / "cockpit-first-card.png"))

            call.say(turns[2]["speaker"], turns[2]["text"], turns[2]["t"])
            second = call.say(turns[3]["speaker"], turns[3]["text"], turns[3]["t"])
            new_card = second["cues"][0]
            assert new_card["id"] != card["id"]
            page.wait_for_selector(card_selector(new_card["id"]))
            assert page.inner_text("#card-say") == f"“{new_card['say']}”"
            assert page.locator("#transcript .entry").count() == 4
            assert page.get_attribute("#trend", "data-trend") in ("worsening", "steady", "improving")
            page.screenshot(path=str(screenshots / "cockpit-second-card.png"))
            call.end()
        page.wait_for_selector('#conn[data-status="ended"]')
        assert "Call ended" in page.inner_text("#summary")


def test_cockpit_with_the_real_engine_shows_its_card_when_there_is_one(
    page: Any, engine: Engine, sqlite_url: str, screenshots: Path
) -> None:
    conversation = demo_conversation("cost_worry")
    with served(sqlite_url, engine) as server:
        page.goto(f"{server.base_url}/agent/real-1")
        with SyncCallStream.connect(server.base_url, "real-1") as call:
            call.start(header(conversation))
            for turn in conversation["turns"][:6]:
                insight = call.say(turn["speaker"], turn["text"], turn["t"])
                page.wait_for_selector(f'#transcript .entry[data-index="{insight["turn"]}"]')
                if turn["speaker"] != "customer":
                    continue
                cues = insight.get("cues") or []
                if cues:  # the coach's card, as documented in advice.py
                    page.wait_for_selector(card_selector(cues[0]["id"]))
                    assert page.inner_text("#card-say") == f"“{cues[0]['say']}”"
                else:
                    page.wait_for_selector("#card.empty")
                    assert page.get_attribute("#card", "data-state") == insight["primary"]
            page.screenshot(path=str(screenshots / "cockpit-real-engine.png"))


def row_order(page: Any) -> list[str]:
    return page.eval_on_selector_all("#rows tr", "rows => rows.map(r => r.dataset.callId)")  # type: ignore[no-any-return]


def wait_order(page: Any, expected: list[str]) -> None:
    page.wait_for_function(
        "expected => JSON.stringify([...document.querySelectorAll('#rows tr')].map(r => r.dataset.callId))"
        " === JSON.stringify(expected)",
        arg=expected,
    )


def test_supervisor_board_resorts_by_risk_and_clicks_through(
    page: Any, engine: Engine, sqlite_url: str, screenshots: Path
) -> None:
    with served(sqlite_url, ScriptedCardsEngine(model=engine.text.model)) as server:
        page.goto(f"{server.base_url}/supervisor")
        page.wait_for_selector("#empty:not([hidden])")
        with (
            SyncCallStream.connect(server.base_url, "calm-1") as calm,
            SyncCallStream.connect(server.base_url, "angry-1") as angry,
        ):
            calm.start({"service": "hvac", "customer": {"name": "Cal Calm"}})
            angry.start({"service": "plumbing", "customer": {"name": "Ann Angry"}})
            angry.say("customer", "Hello, I'm calling about my water heater.")
            calm.say("customer", "Hi, I'd like to book a furnace tune-up for next week.")
            wait_order(page, ["calm-1", "angry-1"])  # equal risk: the latest activity first
            angry.say("customer", "This is the third time I'm calling, nobody showed up and I'm furious!")
            page.wait_for_selector('tr[data-call-id="angry-1"] .pill[data-state="frustration"]')
            wait_order(page, ["angry-1", "calm-1"])
            calm.say("customer", "Also, I can smell gas in the kitchen.")
            wait_order(page, ["calm-1", "angry-1"])  # safety first
            assert "safety" in (page.get_attribute('tr[data-call-id="calm-1"]', "class") or "")
            assert "out of the house" in page.inner_text('tr[data-call-id="calm-1"] .cue')  # no name: it is masked
            page.screenshot(path=str(screenshots / "supervisor-board.png"))
            page.click('tr[data-call-id="angry-1"] a')
            page.wait_for_url(f"{server.base_url}/agent/angry-1")
            page.wait_for_selector('#state[data-state="frustration"]')
            assert page.inner_text("#customer-name") == "[NAME]"  # the name is PII: masked at the edge


def test_cockpit_shows_the_hand_over_packet_when_a_bot_escalates(
    page: Any, engine: Engine, sqlite_url: str, screenshots: Path
) -> None:
    with served(sqlite_url, engine) as server:
        page.goto(f"{server.base_url}/agent/bot-call-1")
        with SyncCallStream.connect(server.base_url, "bot-call-1") as call:
            call.start({"handled_by": "bot", "service": "plumbing", "customer": {"name": "Ray Ortiz"}})
            call.say("agent", "Hi! I'm the Blue River assistant. How can I help?", 0.0)
            insight = call.say("customer", "the sink is leaking, can I talk to a real person please", 4.0)
            assert insight["escalation"]["reason"] == "asked_for_human"
            page.wait_for_selector("#escalation:not([hidden]) .esc-title")
            assert "asked for human" in page.inner_text("#escalation .esc-title")
            # The customer's name is PII, masked at the edge: the opening line greets without it.
            assert page.inner_text("#escalation .esc-open").startswith("Open with: “Hi, I'm taking over")
            page.screenshot(path=str(screenshots / "cockpit-escalation.png"))
