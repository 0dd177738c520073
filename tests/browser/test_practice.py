"""Practice mode at /practice in a real browser over a real server: an agent logs in, plays a
scenario to its report, the cue card shows as in the cockpit (or not at all in an exam), and the
page neither overflows at 400 or 1280 px nor shows text below WCAG AA. One server for the module;
screenshots as in test_pages.py (EMPATHY_SCREENSHOTS=dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.browser.layout import assert_contrast, overflow_px
from tests.practice.scripts import POOR
from tests.service.auth import make_user
from tests.service.servers import ThreadedServer

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('practice') / 'empathy.db'}"
    with ThreadedServer(create_app(Settings(database_url=url), engine=engine)) as running:
        make_user(url, "a-east", PASSWORD, "agent", team="east")
        yield running


def agent_page(browser: Any, server: ThreadedServer, width: int) -> Any:
    """An agent logged in through the form, at /practice."""
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    page.set_default_timeout(15_000)
    page.js_errors = []
    page.on("pageerror", lambda e: page.js_errors.append(str(e)))
    page.goto(f"{server.base_url}/practice")
    page.fill('input[name="login"]', "a-east")
    page.fill('input[name="password"]', PASSWORD)
    page.click('#login-form button[type="submit"]')
    page.wait_for_url(f"{server.base_url}/practice")
    return page


def send(page: Any, text: str) -> None:
    before = page.locator("#transcript .entry").count()
    page.fill("#reply", text)
    page.click("#send")
    page.wait_for_function("n => document.querySelectorAll('#transcript .entry').length >= n + 2", arg=before)


@pytest.mark.parametrize("width", [400, 1280])
def test_an_agent_plays_the_co_alarm_to_its_report(
    browser: Any, server: ThreadedServer, screenshots: Path, width: int
) -> None:
    page = agent_page(browser, server, width)
    page.select_option("#scenario", "co_alarm")
    page.click("#start-button")
    page.wait_for_selector("#play:not([hidden]) #card[data-state='safety']")
    assert "fresh air" in page.inner_text("#card-say")
    assert "carbon monoxide" in page.inner_text("#transcript")
    assert overflow_px(page) == 0, f"the practice call overflows at {width} px"
    measured = assert_contrast(page, ["p#card-say", "span#card-state", "span#state-name", "label", "button#send"])
    page.screenshot(path=str(screenshots / f"practice-call-{width}.png"), full_page=True)
    send(page, POOR[0])
    assert page.get_attribute("#card", "data-state") == "safety"  # ignored: the safety step repeats
    assert "still" in page.locator("#transcript .entry.customer").last.inner_text()
    for text in POOR[1:]:
        if page.is_visible("#report"):
            break
        send(page, text)
    page.wait_for_selector("#report:not([hidden])")
    assert page.is_hidden("#play")
    assert "Score" in page.inner_text("#report-summary") and "hung up" in page.inner_text("#report-summary")
    assert "safety" in page.inner_text("#report-skill").lower() or "fresh air" in page.inner_text("#report-skill")
    assert page.locator("#report-rows tr").count() >= 2
    assert "Skipped the safety step" in page.inner_text("#report-rows")
    assert overflow_px(page) == 0, f"the practice report overflows at {width} px"
    measured += assert_contrast(page, ["td", "th", "p#report-skill", "p#report-summary"])
    page.screenshot(path=str(screenshots / f"practice-report-{width}.png"), full_page=True)
    worst = min(measured, key=lambda m: m["ratio"])
    print(f"\n{width} px: {len(measured)} texts measured, lowest contrast {worst['ratio']:.2f}:1 ({worst['element']})")
    assert not page.js_errors, page.js_errors
    page.context.close()


def test_an_exam_hides_the_card_and_the_report_still_says_what_the_playbook_would_have(
    browser: Any, server: ThreadedServer
) -> None:
    page = agent_page(browser, server, 1280)
    page.select_option("#scenario", "christmas_furnace")
    page.check("#exam")
    page.click("#start-button")
    page.wait_for_selector("#play:not([hidden])")
    assert page.get_attribute("#card", "data-state") == ""
    assert page.inner_text("#card-say") == "Exam: no cue cards" and page.inner_text("#card-do") == ""
    for text in POOR:
        if page.is_visible("#report"):
            break
        send(page, text)
        assert page.inner_text("#card-do") == ""  # never a card during the exam
    page.wait_for_selector("#report:not([hidden])")
    assert "“" in page.inner_text("#report-rows")  # the playbook's phrase, after the fact
    assert not page.js_errors, page.js_errors
    page.context.close()
