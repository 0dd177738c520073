"""/docs (Swagger UI) and /redoc with their JavaScript and CSS served by this app, never a CDN.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a machine without internet
access /docs is blank. This is FastAPI's documented recipe for self-hosting them: the same
page builders, pointed at files under /docs-assets, which come from the fastapi-offline
package (MIT; it ships Swagger UI, Apache-2.0, and ReDoc, MIT, unmodified). No page here names
an outside URL: the favicon is served from the same folder and ReDoc's Google fonts are off.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the Swagger UI and ReDoc files are served from.
ASSETS = "/docs-assets"

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - API",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        oauth2_redirect_url=None,  # API keys go in the Authorize box; there is no OAuth flow
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    return get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - API reference",
        redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


def mount(app: FastAPI) -> None:
    """The pages and their files on `app` (created with docs_url=None and redoc_url=None)."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
