"""REST under /v1: health, calls, customers (with CSV import), outcomes, OpenAPI docs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.service.helpers import utterance


def test_rest_health_reports_database_and_live_calls(client: TestClient) -> None:
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["live_calls"] == 0 and body["version"]


def test_rest_openapi_docs_are_served(client: TestClient) -> None:
    assert "swagger" in client.get("/docs").text.lower()
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/calls",
        "/v1/calls/{call_id}",
        "/v1/calls/{call_id}/outcome",
        "/v1/customers",
        "/v1/customers/{customer_id}",
        "/v1/customers/import",
        "/v1/health",
    ):
        assert path in paths, path


def test_rest_calls_list_and_detail(any_client: TestClient) -> None:
    with any_client.websocket_connect("/v1/calls/c1/stream") as ws:
        ws.send_json({"type": "start", "call": {"service": "hvac", "customer": {"id": "c-9", "name": "Ann"}}})
        ws.receive_json()
        ws.send_json(utterance("customer", "It's the third time I'm calling about this!", t=2.0))
        ws.receive_json()
    page = any_client.get("/v1/calls", params={"status": "live"}).json()
    assert page["total"] == 1 and page["calls"][0]["id"] == "c1" and page["calls"][0]["customer_id"] == "c-9"
    assert any_client.get("/v1/calls", params={"status": "ended"}).json()["total"] == 0
    detail = any_client.get("/v1/calls/c1").json()
    assert detail["status"] == "live" and detail["outcome"] is None and detail["summary"] is None
    (turn,) = detail["turns"]
    assert turn["speaker"] == "customer" and turn["t"] == 2.0 and "frustration" in turn["result"]["detected"]
    assert any_client.get("/v1/calls/none").json() == {"detail": "no call 'none'"}
    assert any_client.get("/v1/calls", params={"status": "sleeping"}).status_code == 422


def test_rest_outcomes_per_call(any_client: TestClient) -> None:
    with any_client.websocket_connect("/v1/calls/c1/stream") as ws:
        ws.send_json({"type": "start"})
        ws.receive_json()
    outcome = {"csat": 4, "resolved": True, "referral": False, "review_text": "Fixed the same day, thanks!"}
    stored = any_client.put("/v1/calls/c1/outcome", json=outcome)
    assert stored.status_code == 200 and stored.json()["csat"] == 4
    assert any_client.put("/v1/calls/c1/outcome", json={"csat": 5}).json()["resolved"] is None
    assert any_client.get("/v1/calls/c1").json()["outcome"]["csat"] == 5
    assert any_client.get("/v1/calls/c1/outcome").json()["csat"] == 5
    assert any_client.put("/v1/calls/c1/outcome", json={"csat": 6}).status_code == 422
    assert any_client.put("/v1/calls/c1/outcome", json={"stars": 6}).status_code == 422
    missing = any_client.put("/v1/calls/nope/outcome", json={"csat": 3})
    assert missing.status_code == 404 and missing.json()["detail"] == "no call 'nope'"


def test_rest_customers_create_update_read(any_client: TestClient) -> None:
    body = {
        "id": "c-7",
        "name": "Dana",
        "notes": ["elderly mother"],
        "prior_contacts": [{"at": "2025-12-20T10:00:00-05:00", "issue": "no heat", "outcome": "no-show"}],
    }
    created = any_client.post("/v1/customers", json=body)
    assert created.status_code == 201 and created.json()["prior_contacts"][0]["at"] == "2025-12-20T10:00:00-05:00"
    conflict = any_client.post("/v1/customers", json=body)
    assert conflict.status_code == 409 and "PATCH" in conflict.json()["detail"]
    patched = any_client.patch("/v1/customers/c-7", json={"name": "Dana Reyes"}).json()
    # A name is PII: stored as its mask (privacy/), so no screen or audit shows it.
    assert patched["name"] == "[NAME]" and patched["notes"] == ["elderly mother"]
    patched = any_client.patch("/v1/customers/c-7", json={"prior_contacts": []}).json()
    assert patched["prior_contacts"] == []
    assert any_client.get("/v1/customers/c-7").json()["name"] == "[NAME]"
    assert any_client.get("/v1/customers").json()["total"] == 1
    assert any_client.patch("/v1/customers/nobody", json={"name": "x"}).status_code == 404
    assert any_client.get("/v1/customers/nobody").status_code == 404
    assert any_client.post("/v1/customers", json={"id": "has space"}).status_code == 422
    assert any_client.post("/v1/customers", json={"id": "c-8", "nickname": "x"}).status_code == 422


CSV = (
    "Customer_ID,name,note,contact_at,contact_issue,contact_outcome,crm_extra\n"
    "c-7,Dana Reyes,worries about her elderly mother,,,,x\n"
    "c-7,,,2025-12-20T10:00:00-05:00,no heat,tech no-show,y\n"
    "c-8,Harold,fixed income,,,,\n"
    ",nobody,,,,,\n"
    "c-9,,,yesterday,leak,callback,\n"
    "\n"
)


def test_rest_customers_csv_import_reports_bad_rows_and_is_idempotent(any_client: TestClient) -> None:
    first = any_client.post("/v1/customers/import", content=CSV, headers={"Content-Type": "text/csv"}).json()
    assert first["rows"] == 5
    assert (first["customers_created"], first["notes_added"], first["contacts_added"]) == (2, 2, 1)
    assert first["errors"] == [
        {"line": 5, "error": "customer_id is empty"},
        {"line": 6, "error": "contact_at 'yesterday' is not an ISO 8601 date-time (like 2025-12-20T10:00:00-05:00)"},
    ]
    again = any_client.post("/v1/customers/import", content=CSV.encode("utf-8-sig")).json()
    assert (again["customers_created"], again["notes_added"], again["contacts_added"]) == (0, 0, 0)
    dana = any_client.get("/v1/customers/c-7").json()
    assert dana["name"] == "[NAME]" and dana["notes"] == ["worries about her elderly mother"]
    assert dana["prior_contacts"] == [
        {"at": "2025-12-20T10:00:00-05:00", "issue": "no heat", "outcome": "tech no-show"}
    ]


def test_rest_customers_csv_import_unusable_files_are_refused(client: TestClient) -> None:
    no_id = client.post("/v1/customers/import", content="name,note\nDana,x\n")
    assert no_id.status_code == 422 and "no customer_id column" in no_id.json()["detail"]
    latin1 = client.post("/v1/customers/import", content="customer_id,note\nc-1,caf\xe9\n".encode("latin-1"))
    assert latin1.status_code == 422 and "not UTF-8" in latin1.json()["detail"]
    assert "empty" in client.post("/v1/customers/import", content=b"").json()["detail"]
    assert client.get("/v1/customers").json()["total"] == 0


def test_rest_audit_report_is_served_at_audit(make_client, sqlite_url: str, tmp_path) -> None:  # noqa: ANN001
    report = tmp_path / "audit.html"
    report.write_text("<html><body><h1>Empathy audit</h1></body></html>")
    served = make_client(sqlite_url, audit_report=report)
    assert "Empathy audit" in served.get("/audit").text
    assert 'href="/audit"' in served.get("/supervisor").text
    missing = make_client(sqlite_url, audit_report=tmp_path / "nope.html")
    page = missing.get("/audit")
    assert page.status_code == 200 and "empathy audit" in page.text and "nope.html" in page.text
