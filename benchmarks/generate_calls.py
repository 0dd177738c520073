"""Synthetic home-services calls for `empathy audit`: calls, outcomes and reviews, reproducibly.

Composes twenty-turn calls (an agent greeting, ten customer turns, nine agent replies) from the
domain corpus in training/data/domain/*.jsonl: each customer turn is a corpus line labelled with
the state the call's story needs, each agent reply a corpus line whose behaviours answer that
state (with the agent's skill as the probability) or do not. Agents differ in skill and in how
many calls they take (a few take very few, so their intervals are wide); customers call back
about the same service when a call went badly; calls are spread over eight weeks of dates.

Also writes `outcomes.csv` (call_id, csat, resolved, referral, review_text) and `reviews.csv`
(customer_id, date, rating, text) whose values depend on how well the call was *meant* to go,
so the audit has something real to find. Everything is synthetic: no real customer data.

    python benchmarks/generate_calls.py OUT_DIR [--calls 3000] [--seed 7] [--corrupt] [--per-file 500]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOMAIN = REPO / "training" / "data" / "domain"

#: Which agent behaviours answer which customer state (TAXONOMY.md; kept in step with taxonomy.RESPONSES).
RESPONSES = {
    "frustration": {"acknowledge_emotion", "validate", "apologize", "action_plan"},
    "urgency": {"urgency_ack", "action_plan", "acknowledge_emotion"},
    "confusion": {"clarify", "confirm_understanding"},
    "cost_anxiety": {"budget_ack"},
    "worry": {"reassure", "acknowledge_emotion"},
    "dejection": {"probe_deeper", "acknowledge_emotion", "validate"},
    "distrust": {"apologize", "reassure", "validate"},
}
OPENING = ["frustration", "urgency", "cost_anxiety", "worry", "distrust", "confusion", "dejection"]
OPENING_WEIGHTS = [5, 4, 3, 3, 2, 2, 1]
SERVICES = ["hvac", "plumbing", "electrical", "water_damage"]
SERVICE_WEIGHTS = [4, 3, 2, 1]
COMPANIES = ["Summit Heating", "Blue River Plumbing", "Brightline Electric", "DryPro Restoration"]
FIRST = ["Jo", "Sam", "Priya", "Marcus", "Lena", "Tom", "Aisha", "Raúl", "Kim", "Dev", "Nora", "Ben", "Ivy", "Omar"]
TZ = timezone(timedelta(hours=-5))
START = datetime(2025, 9, 1, tzinfo=TZ)
WEEKS = 8
END = START + timedelta(weeks=WEEKS)  # repeat contacts stay inside the eight weeks

CARE_REVIEWS = [
    "{agent} really listened and understood how worried I was. I felt cared for.",
    "The woman on the phone was so kind and patient, she understood what we were going through.",
    "They cared. {agent} took the time to listen and explained everything.",
    "I felt heard for the first time with a contractor. Very understanding team.",
    "Compassionate and patient on the phone, and the tech was great too.",
]
COMPETENCE_REVIEWS = [
    "Professional and efficient. Tech arrived on time and fixed it.",
    "Quick, competent service. Fair price.",
    "Efficient scheduling and a knowledgeable technician.",
    "Prompt and professional, job done.",
]
NEGATIVE_REVIEWS = [
    "Nobody called back and I had to call again. Would not recommend.",
    "Felt like they were just reading a script. Still not fixed.",
    "Rude on the phone and the price kept changing.",
    "Waited all day, no-show, no apology.",
]
MIXED_REVIEWS = ["It got fixed eventually.", "OK service.", "Average experience, nothing special."]


@dataclass(slots=True)
class Agent:
    id: str
    name: str
    skill: float
    weight: float


@dataclass(slots=True)
class Call:
    id: str
    when: datetime
    agent: Agent
    customer: str
    service: str
    quality: float  # share of emotional turns the agent was *meant* to answer well
    repeat_of: Call | None = None
    obj: dict = field(default_factory=dict)


class Corpus:
    def __init__(self) -> None:
        self.customer: dict[tuple[str, str], list[str]] = {}
        for name in ("customer_a", "customer_b"):
            for line in (DOMAIN / f"{name}.jsonl").read_text().splitlines():
                row = json.loads(line)
                for label in row["labels"]:
                    self.customer.setdefault((label, row["service"]), []).append(row["text"])
        self.agent: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for line in (DOMAIN / "agent_turns.jsonl").read_text().splitlines():
            row = json.loads(line)
            for b in row["behaviours"]:
                self.agent.setdefault(b, []).append((row["text"], frozenset(row["behaviours"])))

    def customer_line(self, rng: random.Random, state: str, service: str) -> str:
        pool = self.customer.get((state, service), []) + self.customer.get((state, "general"), [])
        if not pool:
            pool = [t for (s, _), texts in self.customer.items() if s == state for t in texts]
        return rng.choice(pool)

    def agent_line(self, rng: random.Random, state: str | None, answer: bool) -> str:
        if state is None:  # after a neutral turn: logistics or next steps
            return rng.choice(self.agent[rng.choice(["informational", "action_plan", "informational"])])[0]
        good = RESPONSES[state]
        if answer:
            return rng.choice(self.agent[rng.choice(sorted(good))])[0]
        pool = [t for b in ("informational", "none", "offer_human") for t, bs in self.agent[b] if not bs & good]
        return rng.choice(pool)


def make_agents(rng: random.Random, n: int) -> list[Agent]:
    agents = []
    for i in range(n):
        skill = 0.35 + 0.55 * i / max(n - 1, 1)
        weight = 0.08 if i in (2, n - 3) else 1.0 + rng.random()  # two agents with very few calls
        agents.append(Agent(f"a-{i + 1:02d}", FIRST[i % len(FIRST)], round(skill, 2), weight))
    rng.shuffle(agents)
    return agents


def story(rng: random.Random, opening: str) -> list[str]:
    """The first nine customer states: opens emotional; logistics, the same worry and a second one mixed."""
    second = rng.choice([s for s in OPENING if s != opening])
    middle = ["neutral"] * rng.randint(3, 5)
    middle += [rng.choice([opening, second, second]) for _ in range(8 - len(middle))]
    rng.shuffle(middle)
    return [opening, *middle]  # the tenth (closing) turn depends on how the call went


def compose(rng: random.Random, corpus: Corpus, call: Call) -> dict:
    opening = rng.choices(OPENING, OPENING_WEIGHTS)[0]
    if call.repeat_of is not None:
        opening = rng.choice(["frustration", "distrust"])
    turns = [
        {
            "speaker": "agent",
            "text": f"Thanks for calling {COMPANIES[SERVICES.index(call.service)]}, this is "
            f"{call.agent.name}. How can I help?",
        }
    ]
    answered = judged = 0
    for state in story(rng, opening):
        turns.append({"speaker": "customer", "text": corpus.customer_line(rng, state, call.service)})
        if state == "neutral":
            turns.append({"speaker": "agent", "text": corpus.agent_line(rng, None, True)})
            continue
        ok = rng.random() < call.agent.skill
        judged += 1
        answered += ok
        turns.append({"speaker": "agent", "text": corpus.agent_line(rng, state, ok)})
    call.quality = answered / judged if judged else 1.0
    closing = "satisfaction" if rng.random() < 0.15 + 0.8 * call.quality else rng.choice(["dejection", "frustration"])
    turns.append({"speaker": "customer", "text": corpus.customer_line(rng, closing, call.service)})
    t = rng.uniform(0.5, 2.0)
    for turn in turns:
        turn["t"] = round(t, 1)
        t += 1.5 + 0.35 * len(turn["text"].split()) + rng.uniform(0, 4)
    customer: dict = {"id": call.customer}
    if call.repeat_of is not None:
        customer["prior_contacts"] = [
            {
                "at": call.repeat_of.when.isoformat(),
                "issue": call.service,
                "outcome": rng.choice(["not fixed", "tech no-show", "callback promised"]),
            }
        ]
    return {
        "id": call.id,
        "channel": "voice",
        "handled_by": "human",
        "service": call.service,
        "started_at": call.when.isoformat(),
        "customer": customer,
        "agent": {"id": call.agent.id},
        "turns": turns,
    }


def when(rng: random.Random) -> datetime:
    day = START + timedelta(days=rng.randrange(WEEKS * 7))
    hour = rng.choice([2, 7, 22]) if rng.random() < 0.08 else rng.randrange(8, 19)
    return day.replace(hour=hour, minute=rng.randrange(60))


def plan_calls(rng: random.Random, n: int, agents: list[Agent]) -> list[Call]:
    """n calls: first contacts, and repeat contacts (same customer, same service, days later)."""
    weights = [a.weight for a in agents]
    calls: list[Call] = []
    customers = 0
    while len(calls) < n:
        customers += 1
        first = Call(
            "",
            when(rng),
            rng.choices(agents, weights)[0],
            f"c-{customers:05d}",
            rng.choices(SERVICES, SERVICE_WEIGHTS)[0],
            1.0,
        )
        calls.append(first)
        # Whether the customer calls back depends on the agent's skill (the call is composed later).
        later = first.when + timedelta(days=rng.uniform(0.5, 9))
        if rng.random() < 0.45 - 0.35 * first.agent.skill and len(calls) < n and later < END:
            again = Call(
                "",
                later,
                rng.choices(agents, weights)[0],
                first.customer,
                first.service,
                1.0,
                repeat_of=first,
            )
            calls.append(again)
    calls.sort(key=lambda c: c.when)
    for i, call in enumerate(calls):
        call.id = f"call-{i + 1:05d}"
    return calls


def outcome_row(rng: random.Random, call: Call) -> list[str] | None:
    if rng.random() > 0.75:
        return None  # no survey answered
    q = call.quality
    csat = min(5, max(1, round(rng.gauss(1.6 + 3.0 * q, 0.8))))
    resolved = rng.random() < 0.45 + 0.45 * q
    referral = rng.random() < 0.03 + 0.22 * q
    text = ""
    if rng.random() < 0.2:
        text = review_text(rng, call, csat)
    return [
        call.id,
        str(csat) if rng.random() > 0.05 else "",
        "yes" if resolved else "no",
        "yes" if referral else "no",
        text,
    ]


def review_text(rng: random.Random, call: Call, rating: int) -> str:
    if rating <= 2:
        pool = NEGATIVE_REVIEWS
    elif rating == 3:
        pool = MIXED_REVIEWS
    else:
        pool = CARE_REVIEWS if rng.random() < 0.2 + 0.7 * call.quality else COMPETENCE_REVIEWS
    return rng.choice(pool).format(agent=call.agent.name)


def corrupt_files(out: Path, good: dict) -> None:
    """Inputs an audit must list and skip: a truncated file, bad fields, bad JSON, bad UTF-8."""
    text = json.dumps(good)
    (out / "calls-truncated.json").write_text(text[: len(text) // 2])
    bad_speaker = {**good, "id": "bad-speaker", "turns": [{"speaker": "robot", "text": "beep"}]}
    no_turns = {**good, "id": "no-turns", "turns": []}
    lines = [json.dumps(bad_speaker), '{"id": "half-a-line", "turns": [{"speaker": "cust', json.dumps(no_turns)]
    (out / "calls-bad.jsonl").write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "latin1 \xe9"}\n')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write calls-*.jsonl, outcomes.csv and reviews.csv into")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--agents", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-file", type=int, default=500, help="calls per .jsonl file")
    parser.add_argument("--corrupt", action="store_true", help="also write a few broken inputs")
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    corpus = Corpus()
    agents = make_agents(rng, args.agents)
    calls = plan_calls(rng, args.calls, agents)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("calls-*.json*"):
        old.unlink()
    for start in range(0, len(calls), args.per_file):
        with (args.out / f"calls-{start // args.per_file:03d}.jsonl").open("w") as f:
            for call in calls[start : start + args.per_file]:
                call.obj = compose(rng, corpus, call)
                f.write(json.dumps(call.obj, ensure_ascii=False) + "\n")
    with (args.out / "outcomes.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["call_id", "csat", "resolved", "referral", "review_text"])
        for call in calls:
            row = outcome_row(rng, call)
            if row:
                w.writerow(row)
    last: dict[str, Call] = {}
    for call in calls:
        last[call.customer] = call
    with (args.out / "reviews.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "date", "rating", "text"])
        for customer, call in last.items():
            if rng.random() < 0.25:
                rating = min(5, max(1, round(rng.gauss(1.5 + 3.2 * call.quality, 0.9))))
                date = (call.when + timedelta(days=rng.randrange(1, 6))).date().isoformat()
                w.writerow([customer, date, rating, review_text(rng, call, rating)])
    if args.corrupt:
        corrupt_files(args.out, calls[0].obj)
    print(f"wrote {len(calls)} calls ({len(last)} customers, {len(agents)} agents) to {args.out}")


if __name__ == "__main__":
    main()
