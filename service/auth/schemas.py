"""Login and token schemas."""

from __future__ import annotations

from typing import Annotated

import msgspec


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Credentials; device fields bind the session to a phone."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
    device_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    app_version: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A refresh token to rotate."""

    refresh_token: Annotated[str, msgspec.Meta(min_length=16, max_length=256)]


class TokenPair(msgspec.Struct):
    """A short-lived access token and a single-use refresh token."""

    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int = 0
    role: str = ""
