"""Failed logins slow down guessing: after a few failures for one login, that login is locked
for a while (doubling each time), whatever address the guesses come from.

Kept in the server's memory (one process serves everything, docs/protocol.md), bounded in size:
a flood of made-up logins forgets the oldest ones instead of growing without end.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

#: Failures in a row that lock the login (the next try must wait).
FREE_FAILURES = 5
#: The first lock; each further failure while over the limit doubles it, up to MAX_LOCK_S.
FIRST_LOCK_S = 30.0
MAX_LOCK_S = 15 * 60.0
#: Logins remembered at most (the least recently failed are forgotten first).
REMEMBERED = 10_000


@dataclass(slots=True)
class _Record:
    failures: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self) -> None:
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()

    def wait_s(self, tenant: str, login: str) -> float:
        """Seconds until this login may be tried again (0: now)."""
        record = self._records.get((tenant, login.lower()))
        return 0.0 if record is None else max(0.0, record.locked_until - time.monotonic())

    def failed(self, tenant: str, login: str) -> None:
        key = (tenant, login.lower())
        record = self._records.pop(key, None) or _Record()
        record.failures += 1
        over = record.failures - FREE_FAILURES + 1
        if over > 0:
            record.locked_until = time.monotonic() + min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (over - 1))
        self._records[key] = record
        while len(self._records) > REMEMBERED:
            self._records.popitem(last=False)

    def succeeded(self, tenant: str, login: str) -> None:
        self._records.pop((tenant, login.lower()), None)
