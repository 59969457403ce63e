"""Customer link tokens: random, single-use, and stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets


def new_link_token() -> str:
    """A URL-safe token for a customer link (256 bits)."""
    return secrets.token_urlsafe(32)


def link_token_hash(token: str) -> str:
    """What the database keeps of a link token: its SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()
