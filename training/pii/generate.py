"""A seeded generator of labelled PII utterances in home-services call language.

Each case is a short dialogue (a customer turn, sometimes after the agent's question) whose
labelled values the redactor must mask. Four styles: written (digits, punctuation), spoken
(numbers as words, "oh", "double"), recogniser (lower case, no punctuation, words for numbers)
and split (the agent asks, the customer may stall, then reads the number over two to four turns). The output
is never committed: the same seed gives the same set (`python -m training.pii.generate --n 10`).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

WORD = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
ORD = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
       "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth",
       "twentieth"]  # fmt: skip
FIRST = ["Dana", "Harold", "Maria", "Kevin", "Priya", "Luis", "Tamika", "Frank", "Grace", "Wei", "Olumide", "Sofia",
         "Brandon", "Aisha", "Greg", "Yolanda", "Mateo", "Heather", "Tyrone", "Ingrid", "Ravi", "Colleen", "Dmitri",
         "Nadia", "Earl", "Beatriz", "Jamal", "Lorraine", "Hiroshi", "Shauna"]  # fmt: skip
LAST = ["Reyes", "Okafor", "Lindqvist", "Patel", "Nguyen", "Kowalski", "Brennan", "Delgado", "Haddad", "Fitzgerald",
        "Abernathy", "Moreau", "Castillo", "Yamamoto", "Washington", "Sorensen", "Mbeki", "Greenberg", "Oyelaran",
        "Whitfield", "Tran", "Romano", "Schultz", "McAllister"]  # fmt: skip
STREETS = ["Maple", "Birch", "Old Mill", "Cedar Ridge", "Lakeview", "Hawthorne", "Juniper", "Saint Claire", "Willow",
           "Prospect", "Elm", "Quarry", "Sycamore Hollow", "Chestnut", "Bayberry"]  # fmt: skip
SUFFIX = ["Street", "St", "Avenue", "Ave", "Road", "Drive", "Lane", "Court", "Boulevard", "Way", "Place", "Circle",
          "Terrace", "Parkway", "Trail"]  # fmt: skip
DOMAINS = ["gmail", "yahoo", "outlook", "hotmail", "icloud", "comcast", "aol", "protonmail"]
WORDS = ["sunflower", "bluejay", "pinecone", "maverick", "riverbend", "goldfish", "tacoma", "lilac", "buckeye"]
SERVICE = [
    "the furnace keeps short cycling", "the water heater is leaking from the bottom", "the breaker keeps tripping",
    "there's water coming through the basement ceiling", "the AC is blowing warm air", "the sump pump died",
    "half the outlets in the kitchen are dead", "the boiler is making a banging noise", "the toilet won't stop running",
]  # fmt: skip


@dataclass
class Case:
    id: str
    style: str
    turns: list[dict[str, str]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def say(self, speaker: str, text: str) -> int:
        self.turns.append({"speaker": speaker, "text": text})
        return len(self.turns) - 1

    def label(self, entity: str, value: str, turn: int) -> None:
        text = self.turns[turn]["text"]
        assert value in text, (value, text)
        self.entities.append({"entity": entity, "value": value, "turn": turn, "start": text.index(value)})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "style": self.style, "turns": self.turns, "entities": self.entities}


# --- numbers said or written ----------------------------------------------------------------------


def spoken_digits(digits: str, rnd: random.Random, groups: int = 4) -> str:
    """Digits as a person reads them: one by one, "oh" for zero, "double" for a pair, pauses between groups."""
    out: list[str] = []
    i = 0
    while i < len(digits):
        d = digits[i]
        if i + 1 < len(digits) and digits[i + 1] == d and rnd.random() < 0.3 and (i + 1) % groups:
            out.append(f"double {WORD[int(d)]}")
            i += 2
        else:
            out.append("oh" if d == "0" and rnd.random() < 0.6 else WORD[int(d)])
            i += 1
        if i % groups == 0 and i < len(digits) and rnd.random() < 0.5:
            out[-1] += rnd.choice([",", "...", ""])
    return " ".join(out)


def pair_words(two: str) -> str:
    """A two-digit group as said in a year or a house number ("85" -> "eighty five", "07" -> "oh seven")."""
    a, b = int(two[0]), int(two[1])
    if a == 0:
        return f"oh {WORD[b]}"
    if a == 1:
        return TEENS[b]
    return TENS[a] + (f" {WORD[b]}" if b else "")


def luhn_complete(prefix: str, length: int, rnd: random.Random) -> str:
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = sum(int(c) * 2 - 9 if i % 2 and int(c) > 4 else int(c) * (2 if i % 2 else 1)
                    for i, c in enumerate(reversed(digits)))  # fmt: skip
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def card_number(rnd: random.Random) -> str:
    kind = rnd.choice(["visa", "visa", "mc", "amex", "discover"])
    if kind == "amex":
        return luhn_complete(rnd.choice(["34", "37"]), 15, rnd)
    prefix = {"visa": "4", "mc": rnd.choice(["51", "52", "53", "54", "55", "2221"]), "discover": "6011"}[kind]
    return luhn_complete(prefix, 16, rnd)


def grouped(digits: str, sep: str) -> str:
    if len(digits) == 15:
        return sep.join([digits[:4], digits[4:10], digits[10:]])
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def routing_number(rnd: random.Random) -> str:
    while True:
        d = [rnd.randrange(10) for _ in range(8)]
        d[0] = rnd.choice([0, 1, 2, 3])
        for check in range(10):
            full = [*d, check]
            weighted = 3 * sum(full[0::3]) + 7 * sum(full[1::3]) + sum(full[2::3])
            if weighted % 10 == 0:  # the ABA checksum
                return "".join(map(str, full))


def digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def recogniser(text: str) -> str:
    """Speech-recogniser text: lower case, no punctuation."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s'@]", " ", text.lower())).strip()


# --- one generator per entity: (style) -> (customer text, value) ------------------------------------

Render = Callable[[random.Random, str], tuple[str, str]]


def _card(rnd: random.Random, style: str) -> tuple[str, str]:
    number = card_number(rnd)
    if style == "written":
        value = rnd.choice([grouped(number, " "), grouped(number, "-"), number])
    else:
        value = spoken_digits(number, rnd)
    frame = rnd.choice([
        "yeah go ahead and put it on my visa, it's {v}", "the card number is {v}", "ok the long number is {v}",
        "sure, it's a mastercard, {v}", "card number {v}", "let me read it to you {v}", "it's {v}",
        "you can charge the card ending... well the whole thing is {v}", "{v}, that's the credit card",
    ])  # fmt: skip
    return frame.format(v=value), value


def _cvv(rnd: random.Random, style: str) -> tuple[str, str]:
    code = digits(rnd, rnd.choice([3, 3, 3, 4]))
    value = code if style == "written" else spoken_digits(code, rnd)
    frame = rnd.choice(["the code on the back is {v}", "cvv is {v}", "security code {v}", "the three digits are {v}",
                        "and the security code is {v}", "cvc {v}"])  # fmt: skip
    return frame.format(v=value), value


def _expiry(rnd: random.Random, style: str) -> tuple[str, str]:
    month, year = rnd.randint(1, 12), rnd.randint(25, 32)
    if style == "written":
        value = rnd.choice([f"{month:02d}/{year}", f"{month:02d}/20{year}", f"{month}/{year}"])
    else:
        value = rnd.choice([f"{pair_words(f'{month:02d}')} {pair_words(str(year))}",
                            f"{MONTHS[month - 1].lower()} twenty {pair_words(str(year))}"])  # fmt: skip
    frame = rnd.choice(["it expires {v}", "expiration is {v}", "exp date {v}", "the expiration date is {v}",
                        "it's good through {v}", "expires {v}"])  # fmt: skip
    return frame.format(v=value), value


def _pin(rnd: random.Random, style: str) -> tuple[str, str]:
    code = digits(rnd, 4)
    value = code if style == "written" else spoken_digits(code, rnd)
    return rnd.choice(["my pin is {v}", "the pin number is {v}", "pin {v}", "pin code {v}"]).format(v=value), value


def _account(rnd: random.Random, style: str) -> tuple[str, str]:
    number = digits(rnd, rnd.randint(8, 12))
    value = number if style == "written" else spoken_digits(number, rnd)
    frame = rnd.choice(["my checking account number is {v}", "account number {v}", "the account is {v}",
                        "it's a savings account, {v}", "bank account {v}"])  # fmt: skip
    return frame.format(v=value), value


def _routing(rnd: random.Random, style: str) -> tuple[str, str]:
    number = routing_number(rnd)
    value = number if style == "written" else spoken_digits(number, rnd, 3)
    frame = rnd.choice(["the routing number is {v}", "routing {v}", "and routing is {v}", "aba number {v}"])
    return frame.format(v=value), value


def _ssn(rnd: random.Random, style: str) -> tuple[str, str]:
    number = f"{rnd.randint(100, 899):03d}{rnd.randint(1, 99):02d}{rnd.randint(1, 9999):04d}"
    if rnd.random() < 0.25:  # "the last four of my social"
        value = number[-4:] if style == "written" else spoken_digits(number[-4:], rnd)
        return rnd.choice(["last four of my social is {v}", "the last four of my ssn are {v}"]).format(v=value), value
    if style == "written":
        a, b, c = number[:3], number[3:5], number[5:]
        value = rnd.choice([f"{a}-{b}-{c}", number, f"{a} {b} {c}"])
    else:
        value = spoken_digits(number, rnd, 3)
    frame = rnd.choice(["my social is {v}", "social security number {v}", "ssn is {v}", "my social security is {v}"])
    return frame.format(v=value), value


def _dob(rnd: random.Random, style: str) -> tuple[str, str]:
    y, m, d = rnd.randint(1930, 2004), rnd.randint(1, 12), rnd.randint(1, 28)
    if style == "written":
        value = rnd.choice([f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{MONTHS[m - 1]} {d}, {y}",
                            f"{MONTHS[m - 1]} {d}th {y}"])  # fmt: skip
    else:
        day = ORD[d] if d <= 20 else f"twenty {ORD[d - 20]}"
        value = f"{MONTHS[m - 1].lower()} {day} {pair_words(str(y)[:2])} {pair_words(str(y)[2:])}"
    frame = rnd.choice(["my date of birth is {v}", "I was born {v}", "birthday is {v}", "dob {v}",
                        "date of birth, {v}"])  # fmt: skip
    return frame.format(v=value), value


def _phone(rnd: random.Random, style: str) -> tuple[str, str]:
    area = rnd.choice([a for a in range(201, 990) if a not in (800, 833, 844, 855, 866, 877, 888)])  # not toll-free
    mid, last = rnd.randint(200, 999), digits(rnd, 4)
    if style == "written":
        value = rnd.choice(
            [f"({area}) {mid}-{last}", f"{area}-{mid}-{last}", f"{area}.{mid}.{last}", f"{area}{mid}{last}"]
        )
    else:
        value = spoken_digits(f"{area}{mid}{last}", rnd, 3)
    frame = rnd.choice(["you can reach me at {v}", "my cell is {v}", "best number is {v}", "call me back on {v}",
                        "my phone number is {v}", "text me at {v} when the tech is on the way"])  # fmt: skip
    return frame.format(v=value), value


def _email(rnd: random.Random, style: str) -> tuple[str, str]:
    first, last, domain = rnd.choice(FIRST).lower(), rnd.choice(LAST).lower(), rnd.choice(DOMAINS)
    n = rnd.randint(1, 99)
    if style == "written":
        value = rnd.choice(
            [f"{first}.{last}@{domain}.com", f"{first[0]}{last}{n}@{domain}.net", f"{first}_{last}@{domain}.com"]
        )
    else:
        said = pair_words(f"{n:02d}")
        value = rnd.choice(
            [f"{first} dot {last} at {domain} dot com", f"{first[0]} {last} {said} at {domain} dot com",
             f"{first}{last} at {domain} dot net"]
        )  # fmt: skip
    frame = rnd.choice(["my email is {v}", "send the invoice to {v}", "email address is {v}", "it's {v}",
                        "you can email me at {v}"])  # fmt: skip
    return frame.format(v=value), value


def _address(rnd: random.Random, style: str) -> tuple[str, str]:
    number = str(rnd.choice([rnd.randint(2, 99), rnd.randint(100, 9999), rnd.randint(10000, 29999)]))
    street, suffix = rnd.choice(STREETS), rnd.choice(SUFFIX)
    apt = rnd.choice(["", "", "", f" apt {rnd.randint(1, 40)}", f" unit {rnd.randint(1, 9)}B"])
    if style == "written":
        value = f"{number} {street} {suffix}{apt}"
    else:
        said = " ".join(pair_words(number[i : i + 2]) if len(number[i : i + 2]) == 2 else WORD[int(number[i])]
                        for i in range(len(number) % 2, len(number), 2))  # fmt: skip
        said = (WORD[int(number[0])] + " " + said) if len(number) % 2 else said
        value = f"{said} {street.lower()} {suffix.lower()}"
    frame = rnd.choice(["the address is {v}", "it's {v}", "we live at {v}", "service address is {v}",
                        "the house is at {v}", "{v}, the gray house on the corner"])  # fmt: skip
    return frame.format(v=value), value


def _name(rnd: random.Random, style: str) -> tuple[str, str]:
    first, last = rnd.choice(FIRST), rnd.choice(LAST)
    full = rnd.choice([f"{first} {last}", first, f"{first} {last}"])
    value = full if style == "written" else full.lower()
    frame = rnd.choice(["my name is {v}", "hi this is {v} calling about my furnace", "the name on the account is {v}",
                        "yes, this is {v} calling back", "my name's {v} and {s}"])  # fmt: skip
    text = frame.format(v=value, s=rnd.choice(SERVICE))
    if style == "written" and rnd.random() < 0.2:
        text, value = f"Hi, it's Mrs. {last}, {rnd.choice(SERVICE)}", last
    return text, value


def _access(rnd: random.Random, style: str) -> tuple[str, str]:
    if rnd.random() < 0.2:
        value = f"{rnd.choice(WORDS)}{digits(rnd, 2)}"
        frame = rnd.choice(["the wifi password is {v}", "wifi password is {v} if the thermostat needs it"])
        return frame.format(v=value), value
    code = digits(rnd, rnd.choice([4, 4, 5, 6]))
    value = code if style == "written" else spoken_digits(code, rnd)
    frame = rnd.choice(["the lockbox code is {v}", "gate code is star {v} pound", "the garage code is {v}",
                        "alarm code is {v}, it's by the back door", "the code to the side door is {v}",
                        "lock box is on the hose bib, code {v}", "keypad code {v}"])  # fmt: skip
    return frame.format(v=value), value


RENDERS: dict[str, Render] = {
    "CARD_NUMBER": _card, "CVV": _cvv, "EXPIRY": _expiry, "PIN": _pin, "BANK_ACCOUNT": _account,
    "ROUTING_NUMBER": _routing, "SSN": _ssn, "DATE_OF_BIRTH": _dob, "PHONE": _phone, "EMAIL": _email,
    "ADDRESS": _address, "NAME": _name, "ACCESS_CODE": _access,
}  # fmt: skip
#: What the agent says before the customer reads a number in pieces, per entity.
ASKS = {
    "CARD_NUMBER": "Okay, whenever you're ready, go ahead with the card number.",
    "CVV": "And the three digit security code on the back?",
    "SSN": "For the financing application I'll need your social security number.",
    "PIN": "Can you give me the PIN for the account?",
    "BANK_ACCOUNT": "What's the account number for the checking account?",
    "ACCESS_CODE": "What's the lockbox code so the tech can get in?",
    "PHONE": "What's the best callback number?",
}
SPLIT_LENGTH = {"CARD_NUMBER": 16, "CVV": 3, "SSN": 9, "PIN": 4, "BANK_ACCOUNT": 10, "ACCESS_CODE": 4, "PHONE": 10}
LEADS = ["", "okay ", "yeah ", "um ", "hold on, ", "so it's ", "it's "]


STALLS = ["hold on", "let me find my wallet", "okay here it is", "one sec", "hang on, it's in the other room",
          "sorry, let me look", "okay"]  # fmt: skip


def _split(rnd: random.Random, entity: str, case: Case) -> None:
    """The agent asks; the customer may stall a few turns ("hold on", "let me find my wallet"),
    then reads the number over two to four turns."""
    case.say("agent", ASKS[entity])
    for _ in range(rnd.choice([0, 0, 1, 2, 3])):
        case.say("customer", rnd.choice(STALLS))
    number = card_number(rnd) if entity == "CARD_NUMBER" else digits(rnd, SPLIT_LENGTH[entity])
    pieces = rnd.choice([3, 4]) if len(number) >= 9 else 2
    size = -(-len(number) // pieces)
    for i in range(0, len(number), size):
        part = number[i : i + size]
        said = part if rnd.random() < 0.3 else spoken_digits(part, rnd)
        turn = case.say("customer", f"{rnd.choice(LEADS)}{said}")
        case.label(entity, said, turn)


def cases(n: int, seed: int = 12) -> Iterator[Case]:
    """`n` labelled cases (each one to three customer utterances), the same for the same seed."""
    rnd = random.Random(seed)
    entities = list(RENDERS)
    for i in range(n):
        style = ["written", "spoken", "recogniser", "split"][i % 4]
        entity = entities[(i // 4) % len(entities)]
        case = Case(f"gen-{i:05d}", style)
        if style == "split" and entity in ASKS:
            _split(rnd, entity, case)
            yield case
            continue
        if style == "split":
            style = case.style = "spoken"
        text, value = RENDERS[entity](rnd, "written" if style == "written" else "spoken")
        if rnd.random() < 0.4:
            text = f"{rnd.choice(['Yeah so ', 'Okay, ', 'Sure. ', ''])}{text}"
        if rnd.random() < 0.3:
            text = f"{text}, and {rnd.choice(SERVICE)}"
        if style == "recogniser":
            text, value = recogniser(text), recogniser(value)
        case.label(entity, value, case.say("customer", text))
        yield case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    for case in cases(args.n, args.seed):
        print(json.dumps(case.to_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
