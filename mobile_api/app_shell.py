"""The technician's offline phone app at /app: its shell, service worker and manifest.

The app itself is static ES modules under ``mobile_api/app/static`` (no build step); it talks
to /mobile/v1 and /api/v1/auth like any other phone client, so it adds no API of its own.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Controller, MediaType, Response, get
from litestar.datastructures import CacheControlHeader, State
from litestar.static_files import create_static_files_router

from service.storage import S3BlobStore

APP_DIR = Path(__file__).resolve().parent / "app"
APP_STATIC = APP_DIR / "static"
# Vendored files and modules change with the app's version; the service worker re-caches them.
_NO_CACHE = "no-cache"


def app_headers(upload_origin: str | None) -> dict[str, str]:
    """A strict CSP: only the app's own files run; uploads may go to the blob store's origin."""
    connect = " ".join(filter(None, ("'self'", upload_origin)))
    return {
        "Cache-Control": _NO_CACHE,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data: blob:; "
            f"connect-src {connect}; manifest-src 'self'; worker-src 'self'; "
            "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        ),
    }


class TechAppController(Controller):
    """The app shell: public files (the data behind them needs the technician's token)."""

    path = "/app"
    include_in_schema = False
    opt = {"exclude_from_auth": True}

    @get("/", media_type=MediaType.HTML)
    async def shell(self, state: State) -> Response[bytes]:
        """The one page of the app; everything else is drawn by app.js."""
        return Response(
            (APP_DIR / "index.html").read_bytes(),
            media_type=MediaType.HTML,
            headers=app_headers(_upload_origin(state)),
        )

    @get("/sw.js", media_type="text/javascript")
    async def service_worker(self) -> Response[bytes]:
        """The service worker, served from /app/ so that its scope is /app/."""
        return Response(
            (APP_DIR / "sw.js").read_bytes(),
            media_type="text/javascript",
            headers={"Cache-Control": _NO_CACHE, "Service-Worker-Allowed": "/app/"},
        )

    @get("/manifest.webmanifest", media_type="application/manifest+json")
    async def manifest(self) -> Response[bytes]:
        """What a home screen needs to install the app."""
        return Response(
            (APP_DIR / "manifest.webmanifest").read_bytes(),
            media_type="application/manifest+json",
            headers={"Cache-Control": _NO_CACHE},
        )


def _upload_origin(state: State) -> str | None:
    """Where the phone PUTs photos when that is not the app's own origin (S3)."""
    store = state.blob_store
    return store.url_origin if isinstance(store, S3BlobStore) else None


app_static_router = create_static_files_router(
    path="/app/static",
    directories=[APP_STATIC],
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    cache_control=CacheControlHeader(no_cache=True),
)
