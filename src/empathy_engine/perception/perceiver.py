"""The one shape every perceiver has: shared by all calls, with what it keeps of one call apart.

A perceiver is loaded once (its model, its patterns, its weights) and read by every call at
once, so it holds nothing about any call. What it must remember of one call lives in the small
object its `new_call` gives: the call's context, the conversation window the patterns read,
the voice baseline. The session keeps those objects; they are what `state_bytes` measures and
what a restarted server rebuilds by replaying the call's turns.
"""

from __future__ import annotations

from typing import Protocol, TypeVar, runtime_checkable

from empathy_engine.events import CallStarted

PerCall_co = TypeVar("PerCall_co", covariant=True)


@runtime_checkable
class Perceiver(Protocol[PerCall_co]):
    def new_call(self, call: CallStarted) -> PerCall_co:
        """The state this perceiver keeps for `call`, fresh at its start."""
        ...
