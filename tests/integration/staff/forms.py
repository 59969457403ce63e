"""Signing in to the staff pages and reading a page's CSRF token, as a browser does."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from tests.integration.builders import PASSWORD, Person

_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: Any, who: Person, next_path: str = "", password: str = PASSWORD) -> Any:
    """Sign in through the shared staff form, as a browser does."""
    form = await client.get("/staff/login" + (f"?next={quote(next_path)}" if next_path else ""))
    assert form.status_code == 200, form.text
    token = _TOKEN.search(form.text)
    assert token
    data = {
        "username": who.user.username,
        "password": password,
        "form_token": token[1],
        "next": next_path,
        "language": "en",
    }
    return await client.post("/staff/login", data=data)


def csrf(html: str) -> str:
    """The CSRF token of a page's forms."""
    match = _CSRF.search(html)
    assert match
    return match[1]
