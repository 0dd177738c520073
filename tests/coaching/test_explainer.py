"""The idiom explainer: fires on the phrases it should (in the forms customers and recognisers
write them), stays quiet on literal uses, and only when the engine's own reading agrees."""

from __future__ import annotations

import pytest

from empathy_engine.advice import CueCard
from empathy_engine.coaching.explainer import Explainer
from empathy_engine.coaching.phrases import PhraseError, compile_phrase, normalize, words_of
from empathy_engine.pipeline import Engine
from empathy_engine.results import CustomerTurn
from empathy_engine.taxonomy import STATES, CustomerState
from tests.conftest import conversation

BAD_NEWS = "I'm sorry, the earliest we can get a technician out is next Tuesday."
GOOD_NEWS = "Good news, the technician can be there at 3 today."


@pytest.fixture(scope="module")
def explainer() -> Explainer:
    return Explainer.load()


def reading(state: CustomerState, score: float = 0.99) -> CustomerTurn:
    """A turn on which the engine reads `state` (score 0.99: a clear reading) and nothing else."""
    scores = {s: 0.01 for s in STATES} | {state: score}
    return CustomerTurn(1, scores, (state,), state, 0.7, ())


# (what the customer said, the agent's turn before, what the engine reads, the entry that must fire)
SHOULD_FIRE: list[tuple[str, str | None, CustomerState, str]] = [
    ("I guess it's fine.", None, "dejection", "guess_its_fine"),
    ("uh i guess its fine", None, "dejection", "guess_its_fine"),
    ("I GUESS THAT'S, UM, OKAY", None, "dejection", "guess_its_fine"),
    ("well i suppose that's alright", None, "frustration", "guess_its_fine"),
    ("It's not ideal, honestly.", None, "frustration", "not_ideal"),
    ("I'm at my wit's end with this furnace", None, "frustration", "wits_end"),
    ("im at my wits end", None, "frustration", "wits_end"),
    ("we're at the end of our rope here", None, "dejection", "wits_end"),
    ("you guys keep giving me the run around", None, "frustration", "run_around"),
    ("they're running me around in circles", None, "frustration", "run_around"),
    ("I'm tired of getting the runaround", None, "frustration", "run_around"),
    ("You people never show up when you say.", None, "frustration", "you_people"),
    ("you incompetent people", None, "distrust", "you_people"),
    ("I feel like I'm bent over a barrel here", None, "cost_anxiety", "over_a_barrel"),
    ("Great.", BAD_NEWS, "frustration", "sarcasm_great"),
    ("oh great. just great.", BAD_NEWS, "dejection", "sarcasm_great"),
    ("Perfect.", BAD_NEWS, "frustration", "sarcasm_perfect"),
    ("Oh wonderful.", BAD_NEWS, "frustration", "sarcasm_wonderful"),
    ("I'd appreciate it if someone actually called me back", None, "frustration", "appreciate_if"),
    ("id really appreciate it if you could send someone", None, "urgency", "appreciate_if"),
    ("With all due respect, you're wrong about the warranty.", None, "distrust", "all_due_respect"),
    ("No offense, but this is the worst service I've had", None, "frustration", "no_offense"),
    ("Forget it.", BAD_NEWS, "dejection", "forget_it"),
    ("just uh forget about it", None, "dejection", "forget_it"),
    ("Whatever.", BAD_NEWS, "dejection", "whatever"),
    ("Okay, I'll just wait then.", BAD_NEWS, "dejection", "ill_just_wait"),
    ("ill just have to wait then i guess", BAD_NEWS, "dejection", "ill_just_wait"),
    ("We're on a fixed income, so...", None, "cost_anxiety", "fixed_income"),
    ("money's kinda tight right now", None, "cost_anxiety", "money_tight"),
    ("that's gonna cost an arm and a leg", None, "cost_anxiety", "arm_and_leg"),
    ("It's like talking to a brick wall", None, "frustration", "talking_to_wall"),
    ("this is the last straw", None, "frustration", "last_straw"),
    ("sounds kinda fishy to me", None, "distrust", "fishy"),
    ("you lost me there", None, "confusion", "lost_me"),
    ("Is the no-show fee waived? Because your tech was a no show.", None, "distrust", "stood_up"),
]


@pytest.mark.parametrize(("text", "agent", "state", "entry"), SHOULD_FIRE, ids=[c[0][:40] for c in SHOULD_FIRE])
def test_fires_on_the_phrases_it_should(
    explainer: Explainer, text: str, agent: str | None, state: CustomerState, entry: str
) -> None:
    found = explainer.explain(reading(state), text, agent)
    assert found is not None, f"{text!r} (read as {normalize(text)!r}) should explain {entry}"
    assert found.entry_id == entry
    assert found.line and "\n" not in found.line


# Literal uses: the words are there (or nearly), but the meaning is the plain one. The engine is
# told the customer is upset, so quiet here is the lexicon's doing, not the reading's.
LITERAL_WITH_UPSET_READING: list[tuple[str, str | None, CustomerState]] = [
    ("The heater works fine now, thanks.", None, "dejection"),
    ("Great, see you at 3.", GOOD_NEWS, "frustration"),
    ("Perfect, that works for me.", GOOD_NEWS, "frustration"),
    ("Don't forget to close the gate, the dog gets out.", None, "dejection"),
    ("The kids were running around and knocked the vent cover off.", None, "frustration"),
    ("Oh, well, that's a lot better than I feared.", None, "cost_anxiety"),
    ("Never mind, I found the model number.", None, "dejection"),
    ("It's been running fine since the visit.", None, "dejection"),
    ("Sure, that's fine.", GOOD_NEWS, "dejection"),
    ("Whatever time works for the tech is great for me.", None, "frustration"),
    ("I'm done with the paperwork, what's next?", None, "frustration"),
    ("The water's backed up a little in the sink.", None, "frustration"),
    ("Great job on the install last year, by the way.", None, "frustration"),
]


@pytest.mark.parametrize(
    ("text", "agent", "state"), LITERAL_WITH_UPSET_READING, ids=[c[0][:40] for c in LITERAL_WITH_UPSET_READING]
)
def test_quiet_on_literal_uses_even_when_the_customer_reads_upset(
    explainer: Explainer, text: str, agent: str | None, state: CustomerState
) -> None:
    assert explainer.explain(reading(state), text, agent) is None


# Literal uses through the whole engine: what the agent said, what the customer answered.
LITERAL_CALLS: list[tuple[str, str]] = [
    ("How is everything working since the visit?", "The heater works fine now, thanks."),
    ("The technician will be there at 3 tomorrow.", "Great, see you at 3."),
    ("We can have someone out this afternoon.", "Perfect, that works for me."),
    ("I can get you in today between one and three.", "Oh wonderful, thank you so much."),
    ("Is the new thermostat easy to use?", "Yeah it's fine, I figured it out."),
    ("Can I put you on a brief hold?", "Sure, that's fine."),
    ("Would Tuesday morning work?", "Tuesday's fine, I'm home all day."),
    ("We fixed the leak and cleaned up.", "Awesome, thanks a lot for coming so quickly."),
    ("Do you want the text reminder?", "Whatever is easiest for you is fine with me, yes please."),
    ("Should I note the gate code?", "Don't forget to close the gate behind you, the dog gets out."),
    ("How's the new water heater?", "Honestly it's great, best decision we made."),
    ("Anything else I can help with?", "Never mind, I found the model number, it's on the side."),
    ("How long have you had the unit?", "The kids were running around and knocked the vent cover off."),
    ("We'll send Maria, she's our best tech.", "Sounds great, see you then."),
    ("The part is covered by warranty.", "Good to know, thanks."),
    ("Could you check the filter for me?", "Hold on, let me grab a flashlight."),
    ("Our tech fixed it last week, right?", "Yes, it's been running fine since, no problems at all."),
    ("Is there anything else?", "I just want to say thanks, Devon was great."),
    ("The earliest is tomorrow at 8.", "Tomorrow at 8 is perfect, that's sooner than I hoped."),
    ("Would you like a maintenance plan?", "Let me think about it and call you back next week, no rush."),
    ("The repair came to 160 dollars.", "Oh, well, that's a lot better than I feared."),
]


def test_quiet_on_literal_uses_through_the_engine(engine: Engine) -> None:
    loud = []
    for agent, customer in LITERAL_CALLS:
        result = engine.analyze(conversation(("agent", agent), ("customer", customer)), explain=True)
        loud += [(customer, c.explain) for c in result.turns[1].cues if c.explain]  # type: ignore[attr-defined]
    assert loud == [], f"{len(LITERAL_CALLS) + len(LITERAL_WITH_UPSET_READING)} literal cases; these explained: {loud}"


def test_shown_only_when_the_engine_agrees(explainer: Explainer) -> None:
    text = "Okay. I guess it's fine."
    assert explainer.explain(reading("dejection"), text, BAD_NEWS) is not None
    assert explainer.explain(reading("neutral"), text, BAD_NEWS) is None  # the engine reads calm
    assert explainer.explain(reading("satisfaction"), text, BAD_NEWS) is None
    assert explainer.explain(reading("confusion"), text, BAD_NEWS) is None  # not a state the idiom signals
    assert explainer.explain(reading("dejection", 0.51), text, BAD_NEWS) is not None  # mild is enough here
    flat_okay = "Okay."  # `it_is_okay` asks for a clear reading, and bad news just before
    assert explainer.explain(reading("dejection", 0.6), flat_okay, BAD_NEWS) is None  # mild
    assert explainer.explain(reading("dejection"), flat_okay, BAD_NEWS) is not None
    assert explainer.explain(reading("dejection"), flat_okay, GOOD_NEWS) is None


def test_sarcasm_only_after_bad_news(explainer: Explainer) -> None:
    upset = reading("frustration")
    assert explainer.explain(upset, "Great.", BAD_NEWS) is not None
    assert explainer.explain(upset, "Great.", GOOD_NEWS) is None
    assert explainer.explain(upset, "Great.", None) is None  # nothing said before it
    assert explainer.explain(reading("satisfaction"), "Great.", BAD_NEWS) is None


def test_the_engine_puts_the_line_on_the_card_only_for_calls_that_ask(engine: Engine) -> None:
    call = conversation(
        ("agent", "I checked the schedule. Unfortunately the earliest opening is Wednesday afternoon."),
        ("customer", "Wednesday. Okay. I guess that's fine."),
    )
    explained = engine.analyze(call, explain=True).turns[1]
    plain = engine.analyze(call).turns[1]
    assert [c.explain for c in explained.cues] == [
        "'I guess it's fine' usually means it isn't: ask what would make it right"
    ]  # type: ignore[attr-defined]
    assert [c.explain for c in plain.cues] == [None]  # type: ignore[attr-defined]
    assert "explain" not in plain.to_dict()["cues"][0]
    card = explained.to_dict()["cues"][0]
    assert CueCard.from_dict(card).explain == card["explain"]  # read back from a stored result


def test_the_shipped_lexicon_is_large_and_every_line_is_one_short_line(explainer: Explainer) -> None:
    kinds = {c.entry.kind for c in explainer.entries}
    assert len(explainer.entries) >= 150
    assert {"understatement", "idiom", "sarcasm", "politeness", "resignation", "cost"} <= kinds
    assert all(len(c.entry.means) <= 160 for c in explainer.entries)
    assert all(c.entry.after == "bad_news" for c in explainer.entries if c.entry.kind == "sarcasm" and
               any(p.startswith("^") for p in c.entry.phrases))  # fmt: skip


def test_every_shipped_phrase_matches_itself_said_each_way_it_allows(explainer: Explainer) -> None:
    """Each phrase, written out with each of its choices (optional words left out), is found by
    the word index and matched: a phrase the language reads differently from what its author
    meant ("that's/that is" is two positions, not one) fails here."""
    missed = []
    for index, compiled in enumerate(explainer.entries):
        for number, phrase in enumerate(compiled.entry.phrases):
            tokens = [t for t in phrase.strip("^$").replace("-", " ").split() if not t.startswith("[")]
            for k in range(max(len(t.split("/")) for t in tokens)):
                said = words_of(" ".join(t.split("/")[min(k, len(t.split("/")) - 1)] for t in tokens))
                found = explainer._candidates(frozenset(said)).get(index, set())
                if number not in found or compiled.phrases[number].search(said) is None:
                    missed.append((compiled.entry.id, phrase, " ".join(said)))
    assert missed == []


def test_matching_takes_small_variations_and_no_regex(explainer: Explainer) -> None:
    upset = reading("frustration")
    assert explainer.explain(upset, "they keep on giving me the uh run around", None) is not None  # inserted words
    assert explainer.explain(upset, "I'm at my WITS' END!!!", None) is not None  # case, punctuation
    assert explainer.explain(upset, "im at my wits end", None) is not None  # recogniser text
    said = explainer.explain(reading("dejection"), "I guess that'll be okay", None)  # a contraction
    assert said is not None and said.quote == "i guess that will be okay"
    with pytest.raises(PhraseError, match="not a word, a/b or"):
        compile_phrase("(you|ya) people+")  # a regular expression is refused, never run
