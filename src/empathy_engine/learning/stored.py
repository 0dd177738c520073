"""`empathy learn fit --database URL`: the cards and outcomes of the service's ended calls.

Each stored turn keeps the result the live engine sent, cards with their variant and propensity
included, so nothing is re-analysed: the cards are read as they were shown. A call's context key
is worked out again from its stored header (the same `call_facts` the engine used; an unresolved
earlier contact the engine read from the database at the start is not in the header, so such a
call counts as `default` unless its header lists the contact). Outcomes come from the REST
outcomes (`PUT /v1/calls/{id}/outcome`).
"""

from __future__ import annotations

from collections.abc import Iterator

from empathy_engine.learning.rewards import CallOutcome, Card, typed_cards


def from_database(url: str, tenant_id: str, outcomes: dict[str, CallOutcome]) -> Iterator[Card]:
    """The learnable cards of one tenant's ended calls; their stored outcomes are added to `outcomes`
    (an outcome already there, from a CSV, is kept). Raises the store's DatabaseError for a bad URL."""
    from empathy_engine.audit.sources import stored_call
    from empathy_engine.coaching.choice import context_of
    from empathy_engine.events import CallStarted
    from empathy_engine.perception.context import ContextSettings, call_facts
    from empathy_engine.results import ConversationResult
    from empathy_engine.store import calls as store
    from empathy_engine.store.db import open_database
    from empathy_engine.store.tenancy import bind_tenant

    engine = open_database(url)
    try:
        with engine.connect() as connection:
            bind_tenant(connection, tenant_id)
            offset = 0
            while page := store.list_calls(connection, tenant_id, "ended", 200, offset)[1]:
                offset += len(page)
                for record in page:
                    turns = store.get_turns(connection, tenant_id, record.id)
                    call = stored_call(record, turns)
                    start = call.events()[0] if hasattr(call, "events") else None
                    settings = ContextSettings(*_calendar(record.engine))
                    context = context_of(call_facts(start, settings)) if isinstance(start, CallStarted) else "default"
                    result = {"id": record.id, "turns": [t.result for t in turns], "context": context}
                    yield from typed_cards(ConversationResult.from_dict(result))
                    if record.id not in outcomes and (o := store.get_outcome(connection, tenant_id, record.id)):
                        outcomes[record.id] = CallOutcome(o.csat, o.resolved, o.referral)
    finally:
        engine.dispose()


def _calendar(engine: dict[str, object] | None) -> tuple[str, str | None]:
    country = (engine or {}).get("holiday_country") or "US"
    subdivision = (engine or {}).get("holiday_subdivision")
    return str(country), str(subdivision) if subdivision else None
