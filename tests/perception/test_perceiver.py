"""Every perceiver is shared by all calls; what it keeps of one call comes from `new_call`."""

from __future__ import annotations

import pickle

import numpy as np

from empathy_engine.events import CallStarted
from empathy_engine.perception.context import CallContext, CallContextPerceiver
from empathy_engine.perception.patterns import REMEMBERED_TURNS, ConversationPatternPerceiver, ConversationWindow
from empathy_engine.perception.perceiver import Perceiver
from empathy_engine.perception.prosody import ProsodyPerceiver, VoiceTracker

CALL = CallStarted("c")
FP = np.eye(8, dtype=np.float32)[0]


def test_perceiver_each_one_gives_every_call_its_own_state() -> None:
    for perceiver, kind in (
        (CallContextPerceiver(), CallContext),
        (ConversationPatternPerceiver(), ConversationWindow),
        (ProsodyPerceiver(), VoiceTracker),
    ):
        assert isinstance(perceiver, Perceiver)
        first, second = perceiver.new_call(CALL), perceiver.new_call(CallStarted("d"))
        assert isinstance(first, kind) and first is not second


def test_perceiver_conversation_window_is_bounded_and_a_customer_turn_retires_the_agents_words() -> None:
    window = ConversationPatternPerceiver().new_call(CALL)
    window.agent("x" * 5000)
    assert window.context().last_agent_text == "x" * 2000
    for i in range(REMEMBERED_TURNS + 3):
        window.customer(f"turn {i} " + "y" * 500, FP)
    context = window.context()
    assert context.last_agent_text is None and len(context.earlier_customer) == REMEMBERED_TURNS
    assert context.earlier_customer[0][0].startswith("turn 3")  # oldest first, the oldest forgotten
    assert all(len(text) <= 200 and fp.dtype == np.float16 for text, fp in context.earlier_customer)
    assert len(pickle.dumps(window)) < 8 * 1024
