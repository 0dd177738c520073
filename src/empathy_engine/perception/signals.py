"""Signals: what a perceiver says about one turn, before the tracker fuses them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from empathy_engine.taxonomy import CustomerState

Source = Literal["text", "pattern", "context", "voice"]


@dataclass(frozen=True, slots=True)
class Signal:
    """Evidence that moves one state: `weight` is added to the state's log-odds."""

    state: CustomerState
    weight: float
    source: Source
    quote: str
