"""The dispatch map's tile setting: validated at start-up, and the page's CSP lets tiles in."""

from __future__ import annotations

from typing import Any

import pytest

from service.settings import SettingsError, load_settings
from service.staff.schedule_pages import map_headers


class _Staff:
    """Stands in for a StaffRequest: only the page headers are used."""

    def headers(self) -> dict[str, str]:
        return {"Content-Security-Policy": "default-src 'none'; img-src 'self' data:; x"}


def test_no_tile_url_means_no_tiles_and_an_unchanged_policy() -> None:
    assert load_settings({}).map.tile_url is None
    staff: Any = _Staff()
    policy = map_headers(staff, None)["Content-Security-Policy"]
    assert "img-src 'self' data:;" in policy


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (
            "https://tiles.example.kz/{z}/{x}/{y}.png",
            "img-src 'self' data: https://tiles.example.kz;",
        ),
        (
            "https://{s}.tile.example.org/{z}/{x}/{y}.png",
            "img-src 'self' data: https://*.tile.example.org;",
        ),
    ],
)
def test_a_tile_server_is_added_to_img_src(url: str, allowed: str) -> None:
    assert load_settings({"NARYAD_MAP_TILE_URL": url}).map.tile_url == url
    staff: Any = _Staff()
    assert allowed in map_headers(staff, url)["Content-Security-Policy"]


@pytest.mark.parametrize(
    "url", ["ftp://tiles.example/{z}/{x}/{y}", "https://tiles.example/tile.png", "javascript:x"]
)
def test_a_tile_url_without_placeholders_or_http_is_refused(url: str) -> None:
    with pytest.raises(SettingsError, match="NARYAD_MAP_TILE_URL"):
        load_settings({"NARYAD_MAP_TILE_URL": url})
