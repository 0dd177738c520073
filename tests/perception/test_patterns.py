from __future__ import annotations

import numpy as np

from empathy_engine.perception.patterns import Context, ConversationPatternPerceiver

PATTERNS = ConversationPatternPerceiver()
NO_PRINT = np.zeros(4, np.float32)


def _signals(text: str, agent: str | None = None, earlier: tuple = ()) -> dict[str, str]:
    return {s.state: s.quote for s in PATTERNS.perceive(text, NO_PRINT, Context(agent, earlier))}


def test_patterns_recurrence_and_broken_promises() -> None:
    assert _signals("this is the third time I'm calling")["frustration"] == "third time"
    signals = _signals("last time nobody showed up")
    assert signals["distrust"] in {"last time", "nobody showed"}
    assert _signals("the furnace is making a noise") == {}


def test_patterns_flat_acceptance_after_bad_news_is_resignation() -> None:
    bad_news = "Unfortunately the earliest we have is Wednesday afternoon."
    assert "dejection" in _signals("ok I guess that's fine", bad_news)
    assert "dejection" not in _signals("ok I guess that's fine", "We can be there in an hour.")
    assert "dejection" not in _signals(
        "ok, but my mother is alone and the house is freezing, can you do better?", bad_news
    )


def test_patterns_jargon_echoed_back_is_confusion() -> None:
    explanation = "It sounds like the capacitor on the condenser failed, which stops the compressor from starting."
    assert "capacitor" in _signals("the capacitor?", explanation)["confusion"]
    assert "confusion" not in _signals("Great, thanks.", explanation)


def test_patterns_same_complaint_again() -> None:
    v = np.ones(4, np.float32) / 2
    earlier = (("the sink is still leaking under the cabinet", v.astype(np.float16)),)
    signals = {
        s.state: s.quote for s in PATTERNS.perceive("the sink is leaking under the cabinet", v, Context(None, earlier))
    }
    assert signals["frustration"].startswith("repeats:")
