"""The pages' live feeds: a call's watch feed and the supervisor board feed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.helpers import utterance


def test_watch_call_waits_then_follows_the_call_to_its_end(client: TestClient) -> None:
    with client.websocket_connect("/v1/calls/c1/watch") as watch:
        assert watch.receive_json() == {"type": "waiting", "call_id": "c1"}
        with client.websocket_connect("/v1/calls/c1/stream") as ws:
            ws.send_json({"type": "start", "call": {"customer": {"name": "Ann", "notes": ["baby at home"]}}})
            ws.receive_json()
            snapshot = watch.receive_json()
            assert snapshot["type"] == "snapshot" and snapshot["call"]["customer"]["notes"] == ["baby at home"]
            assert snapshot["transcript"] == [] and snapshot["mood"]["primary"] is None
            ws.send_json(utterance("customer", "This is ridiculous, nobody showed up again!"))
            ws.receive_json()
            turn = watch.receive_json()
            assert turn["type"] == "turn" and turn["entry"]["index"] == 0
            assert turn["entry"]["text"] == "This is ridiculous, nobody showed up again!"
            assert turn["mood"]["primary"] == "frustration" and turn["mood"]["trend"] == "new"
            ws.send_json(utterance("customer", "and it's still", final=False))
            ws.receive_json()
            assert watch.receive_json()["type"] == "provisional"
            ws.send_json({"type": "end"})
            ws.receive_json()
            ended = watch.receive_json()
            assert ended["type"] == "ended" and ended["summary"]["start"] == "frustration"


def test_watch_ended_call_gets_its_stored_snapshot(client: TestClient) -> None:
    with client.websocket_connect("/v1/calls/c1/stream") as ws:
        ws.send_json({"type": "start"})
        ws.receive_json()
        for text in ("It's the third time I'm calling!", "Okay, thank you so much, that's a relief."):
            ws.send_json(utterance("customer", text))
            ws.receive_json()
        ws.send_json({"type": "end"})
        ws.receive_json()
    with client.websocket_connect("/v1/calls/c1/watch") as watch:
        snapshot = watch.receive_json()
    assert snapshot["call"]["status"] == "ended" and len(snapshot["transcript"]) == 2
    assert snapshot["mood"]["primary"] == "satisfaction" and snapshot["mood"]["trend"] == "improving"
    assert snapshot["summary"]["end"] == "satisfaction"


def test_watch_board_lists_live_calls_riskiest_first(client: TestClient) -> None:
    with client.websocket_connect("/v1/board/watch") as board:
        assert board.receive_json()["total"] == 0
        with (
            client.websocket_connect("/v1/calls/calm/stream") as a,
            client.websocket_connect("/v1/calls/angry/stream") as b,
        ):
            for ws, text in (
                (a, "Hi, I'd like to book a service visit for next week."),
                (b, "This is the third time! Nobody showed up and I'm furious."),
            ):
                ws.send_json({"type": "start"})
                ws.receive_json()
                ws.send_json(utterance("customer", text))
                ws.receive_json()
            frame = board.receive_json()
            while frame["total"] < 2 or any(row["turns"] == 0 for row in frame["calls"]):
                frame = board.receive_json()
            assert [row["call_id"] for row in frame["calls"]] == ["angry", "calm"]
            assert frame["calls"][0]["primary"] == "frustration" and frame["calls"][0]["connected"] is True
