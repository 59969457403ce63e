"""Headers of server-rendered pages: a per-response nonce CSP, no framing, no sniffing.

The coordinator board and the customer pages (signing, copy, rating, verify) share this one
mechanism: every inline ``<script>`` and ``<style>`` carries the response's nonce, nothing
else runs, and no other site may frame the page (clickjacking a signature).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit


def url_origin(url: str | None) -> str | None:
    """scheme://host[:port] of an http(s) URL (a CSP source, a CORS origin), or None."""
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def new_page_nonce() -> str:
    """A fresh CSP nonce for one response."""
    return secrets.token_urlsafe(16)


def page_headers(
    nonce: str,
    *,
    referrer_policy: str = "no-referrer",
    form_action: str = "'self'",
    image_origins: tuple[str, ...] = (),
) -> dict[str, str]:
    """No caching, no framing, and only this response's nonce-tagged script and style.

    ``image_origins``: other origins images may load from (the blob store's signed URLs).
    """
    images = " ".join(("'self'", "data:", *image_origins))
    return {
        "Cache-Control": "no-store",
        "Referrer-Policy": referrer_policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'nonce-{nonce}'; "
            f"style-src 'nonce-{nonce}'; img-src {images}; connect-src 'self'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }
