"""Door and keypad codes in the phrasings people use, a phone number written "(312)5550142", and log
records masked without breaking the formatters that read their arguments (uvicorn's access log) or
leaking the credentials a debug dump of request headers carries."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from empathy_engine.privacy import logs as privacy_logs
from empathy_engine.privacy import redact_text

KEY = "ee_testadmin00_not-a-secret-only-for-tests-0123456789abcdef"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the code to get in the side door is 4482", "the code to get in the side door is [ACCESS_CODE]"),
        ("the keypad is pound 4482", "the keypad is pound [ACCESS_CODE]"),
        ("the door code is 4482", "the door code is [ACCESS_CODE]"),
        ("door code's 4482", "door code's [ACCESS_CODE]"),
        ("the code for the front door is 1 9 7 3", "the code for the front door is [ACCESS_CODE]"),
        ("the entry code is star 5521", "the entry code is star [ACCESS_CODE]"),
        ("the alarm code is 0099", "the alarm code is [ACCESS_CODE]"),
        ("garage code 2231", "garage code [ACCESS_CODE]"),
        ("the code to the garage is 2231", "the code to the garage is [ACCESS_CODE]"),
        ("to disarm the alarm it's 7719", "to disarm the alarm it's [ACCESS_CODE]"),
        ("keypad code four four eight two", "keypad code [ACCESS_CODE]"),
        ("the code on the lockbox is 3312", "the code on the lockbox is [ACCESS_CODE]"),
        ("reach me on (312)5550142", "reach me on [PHONE]"),
        ("call me at (312) 555-0142", "call me at [PHONE]"),
    ],
)
def test_codes_door_keypad_and_alarm_codes_and_bracketed_area_codes_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text", ["we've got 4 doors", "the door is 36 inches wide", "the alarm went off at 3 am", "keypad broke in 2019"]
)
def test_codes_numbers_near_door_words_that_are_not_codes_stay(text: str) -> None:
    assert redact_text(text) == text


def _record(name: str, msg: str, args: tuple[object, ...]) -> logging.LogRecord:
    privacy_logs.install()
    return logging.getLogger(name).makeRecord(name, logging.INFO, __file__, 1, msg, args, None)


def test_logs_uvicorn_access_formatter_reads_a_masked_record() -> None:
    access = '%s - "%s %s HTTP/%s" %d'
    path = f"/v1/calls/c1/stream?ticket=tk-9f8e7d&key={KEY}"
    record = _record("uvicorn.access", access, ("127.0.0.1:53412", "GET", path, "1.1", 200))
    assert len(record.args) == 5 and record.args[4] == 200  # type: ignore[arg-type,index]
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert line.startswith('127.0.0.1:53412 - "GET /v1/calls/c1/stream?ticket=[CREDENTIAL]') and line.endswith("200 OK")
    assert "tk-9f8e7d" not in line and KEY not in line
    card = _record("uvicorn.access", access, ("127.0.0.1:1", "GET", "/v1/customers/4111111111111111", "1.1", 404))
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(card)
    assert "4111111111111111" not in line and "404" in line


@pytest.mark.parametrize(
    ("header", "value", "secret"),
    [
        ("authorization", f"Bearer {KEY}", KEY),
        ("Authorization", "Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("cookie", "empathy_session=s3ss10n-value; theme=dark", "s3ss10n-value"),
        ("set-cookie", "empathy_session=s3ss10n-value; HttpOnly", "s3ss10n-value"),
        ("x-twilio-signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "RSOYDt4T1cUTdK1PDd93"),
        ("X-API-KEY", "plain-secret-value", "plain-secret-value"),
        ("signature", "sig1=:K2qGT5srn2OGbOIDzQ6kYT+ruaycnDAAUpKv+ePFfD0=:", "K2qGT5srn2OGbOIDzQ6kYT"),
        ("signature-input", 'sig1=("@method");created=1618884473;keyid="k1"', "1618884473"),
    ],
)
def test_logs_a_header_dump_keeps_no_credential(header: str, value: str, secret: str) -> None:
    record = _record("websockets.server", "< %s: %s", (header, value))
    assert secret not in logging.Formatter("%(message)s").format(record)
    assert record.getMessage().startswith(f"< {header}: ")


def test_logs_key_shaped_strings_and_tickets_anywhere_are_masked() -> None:
    record = _record("empathy_engine.test", "client sent %r", ({"key": KEY, "url": "/ws?ticket=abc.def"},))
    text = record.getMessage()
    assert KEY not in text and "abc.def" not in text and "[CREDENTIAL]" in text


def test_logs_numbers_keep_their_type_and_pii_over_two_arguments_is_withheld() -> None:
    timed = _record("empathy_engine.test", "took %d ms, %.1f%%", (5, 2.5))
    assert timed.args == (5, 2.5) and timed.getMessage() == "took 5 ms, 2.5%"
    split = _record("empathy_engine.test", "card %s %s", ("4111 1111", "1111 1111"))
    assert "1111" not in split.getMessage() and isinstance(split.args, tuple) and len(split.args) == 2
