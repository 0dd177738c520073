"""Deeply nested JSON in a small frame is refused with the protocol's error, not a dropped socket."""

from __future__ import annotations

import pytest

from empathy_engine.ingest.live import ProtocolError, parse_event
from empathy_engine.ingest.wire import WireError, parse_object

DEEP = "[" * 60_000 + "]" * 60_000  # 120 KB: inside the frame limit, beyond Python's recursion limit


def test_live_protocol_refuses_deeply_nested_json() -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_event(DEEP, 1 << 20)
    assert refused.value.code == "invalid_json"
    assert "nested too deeply" in refused.value.message


def test_telephony_wire_refuses_deeply_nested_json() -> None:
    with pytest.raises(WireError, match="nested too deeply"):
        parse_object(DEEP, "Twilio Media Streams")
