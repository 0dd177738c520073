"""A customer id in a call's header obeys the id rule the REST API and the CSV import hold it to."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from empathy_engine.ingest.conversation import CallHeader


@pytest.mark.parametrize("bad", ["=HYPERLINK(1)", "../../etc/passwd", "a b", "", "x" * 201])
def test_customer_id_rule_refuses_what_rest_refuses(bad: str) -> None:
    with pytest.raises(ValidationError, match="customer.id"):
        CallHeader.model_validate({"customer": {"id": bad}})


def test_customer_id_rule_takes_a_crm_id() -> None:
    assert CallHeader.model_validate({"customer": {"id": "cust-7:a@b.c"}}).customer.id == "cust-7:a@b.c"
