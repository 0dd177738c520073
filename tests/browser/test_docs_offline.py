"""/docs and /redoc in a real browser that may reach nothing but the server: every other
request is aborted (as on a machine without internet access), and both pages still render
the API."""

from __future__ import annotations

from typing import Any

from empathy_engine.pipeline import Engine
from empathy_engine.service.app import create_app
from empathy_engine.service.settings import Settings
from tests.service.servers import ThreadedServer


def test_docs_and_redoc_render_with_the_network_blocked(browser: Any, engine: Engine, sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url), engine=engine)
    with ThreadedServer(app) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        outside: list[str] = []
        served: list[str] = []

        def only_the_server(route: Any) -> None:
            url = route.request.url
            if url.startswith(server.base_url + "/"):
                served.append(url)
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        context.route("**/*", only_the_server)
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.base_url}/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "empathy-engine" in page.inner_text(".swagger-ui .info .title")
        page.wait_for_selector(".opblock-summary-path[data-path=\"/v1/calls/{call_id}\"]")  # read from /openapi.json
        page.goto(f"{server.base_url}/redoc")
        page.wait_for_selector("redoc h1")
        assert "empathy-engine" in page.inner_text("redoc h1")
        context.close()
    assert outside == [], f"the pages asked for outside URLs: {outside}"
    assert any(u.endswith("/docs-assets/swagger-ui-bundle.js") for u in served)
    assert any(u.endswith("/docs-assets/redoc.standalone.js") for u in served)
    assert errors == []
