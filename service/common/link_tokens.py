"""Customer link tokens: unguessable, single-use, and stored only as a hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

# The copy link's token is derived from the signing link's id: a replay can answer it again,
# and staff can be shown it (service/acts/customer_links.py).
COPY_LABEL = "act-copy"


def new_link_token() -> str:
    """A URL-safe token for a customer link (256 bits)."""
    return secrets.token_urlsafe(32)


def link_token_hash(token: str) -> str:
    """What the database keeps of a link token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def derived_link_token(secret: str, label: str, link_id: uuid.UUID) -> str:
    """A link token the server can compute again from the link's id (256 bits, URL-safe).

    Staff can then be shown a customer's current link, although only its hash is stored.
    """
    digest = hmac.new(secret.encode(), f"{label}:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
