"""/docs (Swagger UI) and /redoc with their JavaScript and CSS served by this app, never a CDN.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a machine without internet
access /docs is blank. This is FastAPI's documented recipe for self-hosting them: the same
page builders, pointed at files under /docs-assets, which come from the fastapi-offline
package (MIT; it ships Swagger UI, Apache-2.0, and ReDoc, MIT, unmodified). No page here names
an outside URL: the favicon is served from the same folder and ReDoc's Google fonts are off.
ReDoc's bundle itself puts a Redocly logo from Redocly's CDN in its side menu (it hides it when
it fails to load); the pages' Content-Security-Policy lets the browser load only this server's
files, so not even that request leaves the machine.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the Swagger UI and ReDoc files are served from.
ASSETS = "/docs-assets"
#: Only this server's files: the pages' inline start-up script and styles, ReDoc's search worker
#: (a blob:), and data: images; nothing from anywhere else.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - API",
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
        oauth2_redirect_url=None,  # API keys go in the Authorize box; there is no OAuth flow
        swagger_ui_parameters=app.swagger_ui_parameters,
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - API reference",
        redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page


def mount(app: FastAPI) -> None:
    """The pages and their files on `app` (created with docs_url=None and redoc_url=None)."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
