"""PII redaction: what a customer says is masked before the engine, the store or a screen sees it.

`redact_text` masks one piece of text on its own (CRM notes, log lines); `CallRedaction` masks a
call's turns in order and remembers what the agent just asked for, so digits read out over the
next few customer turns are masked too (a card number said in three pieces). Masks name the
entity: `[CARD_NUMBER]`, `[CVV]`, ... (entities.py). See docs/security.md, "Redaction".
"""

from empathy_engine.privacy.dialogue import CallRedaction
from empathy_engine.privacy.entities import Entity, mask_of
from empathy_engine.privacy.redactor import Found, redact_text, redact_turn

__all__ = ["CallRedaction", "Entity", "Found", "mask_of", "redact_text", "redact_turn"]
