"""/docs and /redoc name no outside URL: every script, stylesheet and icon they load is served
by the app itself (the browser test, tests/browser/test_docs_offline.py, loads them offline)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_only_from_the_app(client: TestClient, page: str) -> None:
    public = TestClient(client.app)  # the docs need no credential
    html = public.get(page)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in html.headers["content-security-policy"]  # the browser asks nobody else
    assert not re.search(r"https?://", html.text), "the page names an outside URL"
    assets = ASSET.findall(html.text)
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        got = public.get(asset)
        assert got.status_code == 200 and len(got.content) > 1000, asset
    assert "'/openapi.json'" in html.text or '"/openapi.json"' in html.text
    assert public.get("/openapi.json").json()["info"]["version"] == "0.3.0"


def test_api_docs_under_a_path_prefix_name_the_prefix(client: TestClient) -> None:
    """Behind a proxy that mounts the app under a prefix, the assets are asked for under it too."""
    prefixed = TestClient(client.app, root_path="/coach")
    assert 'src="/coach/docs-assets/swagger-ui-bundle.js"' in prefixed.get("/docs").text
