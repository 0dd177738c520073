"""HTTP Message Signatures (RFC 9421, the draft Genesys AudioHook implements) with hmac-sha256.

Only what a verifier of an upgrade request needs: the two header fields parsed as RFC 8941
structured-field dictionaries (strictly: anything outside the grammar is refused, never guessed),
the signature base rebuilt from the request's components, and a constant-time HMAC check.
Pure functions over header values: no sockets, no settings, no clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: A bare item: str (sf-string or token), int, bytes (byte sequence) or bool.
Bare = str | int | bytes | bool
Params = tuple[tuple[str, Bare], ...]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*")
_INTEGER = re.compile(r"-?[0-9]{1,15}")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")
_MAX_FIELD = 8192  # far above what AudioHook sends; a bigger field is refused before parsing


class SignatureError(ValueError):
    """A Signature or Signature-Input field that cannot be read, with what is wrong."""


@dataclass(frozen=True)
class Member:
    """One dictionary member: an item (value, params) or an inner list of items (value is a tuple)."""

    value: Bare | tuple[tuple[Bare, Params], ...]
    params: Params


class _Reader:
    """RFC 8941 section 4.2 parsing, for the dictionary shape the two signature fields use."""

    def __init__(self, text: str, field: str) -> None:
        if len(text) > _MAX_FIELD:
            raise SignatureError(f"{field} is {len(text)} characters; at most {_MAX_FIELD} are read")
        self.text, self.at, self.field = text.strip(" "), 0, field

    def fail(self, what: str) -> SignatureError:
        return SignatureError(f"{self.field} is not a structured-field dictionary: {what} at character {self.at}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def skip(self, spaces: str = " ") -> None:
        while self.peek() and self.peek() in spaces:
            self.at += 1

    def match(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.match(self.text, self.at)
        if found is None:
            return None
        self.at = found.end()
        return found.group(0)

    def dictionary(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        while self.at < len(self.text):
            key = self.match(_KEY)
            if key is None:
                raise self.fail("expected a member name")
            if self.peek() != "=":
                raise self.fail(f"member {key!r} has no value")
            self.at += 1
            members[key] = self.inner_list() if self.peek() == "(" else Member(self.bare(), self.params())
            self.skip(" \t")
            if self.at == len(self.text):
                break
            if self.peek() != ",":
                raise self.fail("expected ',' between members")
            self.at += 1
            self.skip(" \t")
            if self.at == len(self.text):
                raise self.fail("trailing ','")
        return members

    def inner_list(self) -> Member:
        self.at += 1  # "("
        items: list[tuple[Bare, Params]] = []
        while True:
            self.skip()
            if self.peek() == ")":
                self.at += 1
                return Member(tuple(items), self.params())
            if items and self.text[self.at - 1] != " ":
                raise self.fail("expected a space between inner-list items")
            items.append((self.bare(), self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in an inner list")

    def params(self) -> Params:
        out: list[tuple[str, Bare]] = []
        while self.peek() == ";":
            self.at += 1
            self.skip()
            key = self.match(_KEY)
            if key is None:
                raise self.fail("expected a parameter name")
            value: Bare = True
            if self.peek() == "=":
                self.at += 1
                value = self.bare()
            out.append((key, value))
        return tuple(out)

    def bare(self) -> Bare:
        first = self.peek()
        if first == '"':
            return self.string()
        if first == ":":
            found = self.match(_BYTES)
            if found is None:
                raise self.fail("a byte sequence that is not base64 between ':'")
            return self.base64(found[1:-1])
        if first == "?" and self.text[self.at + 1 : self.at + 2] in ("0", "1"):
            self.at += 2
            return self.text[self.at - 1] == "1"
        number = self.match(_INTEGER)
        if number is not None:
            if self.peek() == ".":
                raise self.fail("a decimal (no signature parameter is one)")
            return int(number)
        token = self.match(_TOKEN)
        if token is None:
            raise self.fail("expected a string, token, integer, boolean or byte sequence")
        return token

    def base64(self, text: str) -> bytes:
        """Padding may be left out (RFC 8941 asks parsers to accept that); anything but the one
        canonical spelling of the bytes is refused, so a signature has exactly one text."""
        try:
            decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except binascii.Error:
            raise self.fail("a byte sequence that is not base64") from None
        if base64.b64encode(decoded).decode("ascii").rstrip("=") != text.rstrip("="):
            raise self.fail("a byte sequence that is not canonical base64")
        return decoded

    def string(self) -> str:
        self.at += 1
        out: list[str] = []
        while self.at < len(self.text):
            char = self.text[self.at]
            self.at += 1
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\"):
                    raise self.fail("a backslash that escapes neither '\"' nor '\\'")
                out.append(escaped)
                self.at += 1
            elif char == '"':
                return "".join(out)
            elif not " " <= char <= "~":
                raise self.fail("a character outside printable ASCII in a string")
            else:
                out.append(char)
        raise self.fail("a string with no closing '\"'")


def parse_dictionary(text: str, field: str) -> dict[str, Member]:
    """An RFC 8941 dictionary field, e.g. `sig1=("@authority");keyid="k"` or `sig1=:AAEC:`."""
    return _Reader(text, field).dictionary()


def serialize_bare(value: Bare) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    return "".join(f";{key}" if value is True else f";{key}={serialize_bare(value)}" for key, value in params)


def serialize_inner_list(member: Member) -> str:
    """The canonical text of a Signature-Input member: what `@signature-params` covers."""
    assert isinstance(member.value, tuple)
    items = " ".join(serialize_bare(value) + serialize_params(params) for value, params in member.value)
    return f"({items}){serialize_params(member.params)}"


@dataclass(frozen=True)
class SignedRequest:
    """One signature of a request: what it covers, its parameters, its bytes, and the base it signs."""

    label: str
    components: tuple[str, ...]
    parameters: dict[str, Bare]
    signature: bytes
    base: str


#: A derived component's value for this request ("@authority" -> "coach.example.com"), or None.
Derived = Callable[[str], str | None]


def read_signature(headers: Mapping[str, str], derived: Derived) -> SignedRequest:
    """The request's first signature, its base rebuilt from `headers` (lower-case names) and `derived`.

    Raises SignatureError naming what is missing or malformed; the HMAC is checked by `matches`.
    """
    inputs = parse_dictionary(headers.get("signature-input", ""), "Signature-Input")
    signatures = parse_dictionary(headers.get("signature", ""), "Signature")
    if not inputs or not signatures:
        raise SignatureError("the request needs both a Signature and a Signature-Input header")
    label, member = next(iter(inputs.items()))
    if not isinstance(member.value, tuple):
        raise SignatureError(f"Signature-Input {label!r} is not an inner list of covered components")
    signed = signatures.get(label)
    if signed is None or not isinstance(signed.value, bytes):
        raise SignatureError(f"Signature has no byte sequence labelled {label!r} (Signature-Input has one)")
    lines, names = [], []
    for name, params in member.value:
        if not isinstance(name, str) or params:
            raise SignatureError(f"Signature-Input {label!r}: components must be plain strings, got {name!r}")
        if name in names or name == "@signature-params":
            raise SignatureError(f"Signature-Input {label!r}: component {name!r} is repeated or not allowed")
        value = derived(name) if name.startswith("@") else headers.get(name)
        if value is None:
            raise SignatureError(f"Signature-Input {label!r} covers {name!r}, which this request does not have")
        lines.append(f"{serialize_bare(name)}: {value}")
        names.append(name)
    lines.append(f'"@signature-params": {serialize_inner_list(member)}')
    return SignedRequest(label, tuple(names), dict(member.params), signed.value, "\n".join(lines))


def matches(signed: SignedRequest, key: bytes) -> bool:
    """hmac-sha256 of the signature base under `key` equals the signature (constant time)."""
    expected = hmac.new(key, signed.base.encode("utf-8"), hashlib.sha256).digest()
    return hmac.compare_digest(expected, signed.signature)


def canonical_field(values: list[str]) -> str:
    """A header field's value as a signature covers it: each line trimmed, repeats joined by ', '."""
    return ", ".join(re.sub(r"[ \t]*\r\n[ \t]+", " ", value).strip(" \t") for value in values)
