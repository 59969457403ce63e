"""Browsers ask every origin for /favicon.ico; a 404 there is a console error on each page."""

from __future__ import annotations

from typing import Any


async def test_the_icon_is_served_to_anyone_as_a_cacheable_png(client: Any) -> None:
    answer = await client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert "max-age=86400" in answer.headers["cache-control"]
