"""Pure parts of the input limits: streaming scanners, secret rules, token lifetimes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from service.auth.token_lifetime import (
    LIFETIME_LEEWAY_SECONDS,
    claims_lifetime_is_allowed,
    lifetime_is_allowed,
)
from service.cli import main
from service.common.request_guard import JsonDepthScanner, NulScanner
from service.settings import DEV_JWT_SECRET, SettingsError, load_settings


def _deepest(text: bytes, limit: int, piece: int) -> bool:
    scanner = JsonDepthScanner(limit)
    return any(scanner.feed(text[i : i + piece]) for i in range(0, len(text), piece))


@pytest.mark.parametrize("piece", [1, 2, 3, 7, 4096])
def test_depth_is_counted_across_pieces(piece: int) -> None:
    assert _deepest(b"[" * 65 + b"]" * 65, 64, piece)
    assert not _deepest(b"[" * 64 + b"]" * 64, 64, piece)
    assert _deepest(b'{"a":' * 65 + b"1" + b"}" * 65, 64, piece)
    # Siblings are not nesting: a thousand flat objects are fine.
    flat = json.dumps([{"a": [1]} for _ in range(1000)]).encode()
    assert not _deepest(flat, 3, piece)


@pytest.mark.parametrize("piece", [1, 2, 5, 4096])
def test_brackets_inside_strings_and_escapes_do_not_count(piece: int) -> None:
    # Brackets in strings, escaped quotes, and an escaped backslash just before a closing quote.
    strings = json.dumps(["[[[[{{{{", 'say "[[[["', "ends with \\", '\\"[[[['] * 40).encode()
    assert b'\\\\"' in strings
    assert b'\\"' in strings
    assert not _deepest(strings, 2, piece)
    # After those strings, real nesting is still counted from the right depth.
    tricky = b'["\\\\", "\\"[", ' + b"[" * 10 + b"]" * 10 + b"]"
    assert json.loads(tricky)
    assert not _deepest(tricky, 11, piece)
    assert _deepest(tricky, 10, piece)


@pytest.mark.parametrize("split", range(1, 6))
def test_a_nul_escape_split_across_pieces_is_found(split: int) -> None:
    escape = b"\\u0000"
    body = b'{"name": "a' + escape + b'b"}'
    at = body.index(escape) + split
    scanner = NulScanner(escape)
    assert not scanner.feed(body[:at])
    assert scanner.feed(body[at:])


def test_a_nul_split_over_three_tiny_pieces_and_a_raw_nul_are_found() -> None:
    scanner = NulScanner(b"\\u0000")
    assert [scanner.feed(p) for p in (b'"\\u', b"00", b'00"')] == [False, False, True]
    assert NulScanner(b"%00").feed(b"a=b\x00")
    form = NulScanner(b"%00")
    assert [form.feed(p) for p in (b"a=1%", b"0", b"0&b=2")] == [False, False, True]
    clean = NulScanner(b"\\u0000")
    assert not any(clean.feed(p) for p in (b'"\\u00', b'41", "u0000"'))


def test_production_refuses_the_development_and_short_secrets() -> None:
    production = {"NARYAD_ENV": "production", "NARYAD_STORAGE": "s3"}
    with pytest.raises(SettingsError, match="development secret"):
        load_settings({**production, "NARYAD_JWT_SECRET": DEV_JWT_SECRET})
    with pytest.raises(SettingsError, match="32 bytes"):
        load_settings({**production, "NARYAD_JWT_SECRET": "x" * 31})
    strong = "k" * 32
    with pytest.raises(SettingsError, match="NARYAD_URL_SIGNING_KEY must be at least 32 bytes"):
        load_settings({**production, "NARYAD_JWT_SECRET": strong, "NARYAD_URL_SIGNING_KEY": "s"})
    # Bytes, not characters: seventeen two-byte letters are 34 bytes.
    assert load_settings({**production, "NARYAD_JWT_SECRET": "ж" * 17}).auth.jwt_secret
    assert load_settings({**production, "NARYAD_JWT_SECRET": strong}).environment == "production"
    # Development keeps its convenient default.
    assert load_settings({}).auth.jwt_secret == DEV_JWT_SECRET


def test_body_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {"NARYAD_BODY_READ_TIMEOUT_SECONDS": "2.5", "NARYAD_MAX_JSON_DEPTH": "32"}
    )
    assert settings.server.body_read_timeout_seconds == 2.5
    assert settings.server.max_json_depth == 32
    assert load_settings({}).server.body_read_timeout_seconds == 30.0
    with pytest.raises(SettingsError, match="NARYAD_BODY_READ_TIMEOUT_SECONDS"):
        load_settings({"NARYAD_BODY_READ_TIMEOUT_SECONDS": "0"})
    with pytest.raises(SettingsError, match="NARYAD_MAX_JSON_DEPTH"):
        load_settings({"NARYAD_MAX_JSON_DEPTH": "100000"})


def test_token_lifetime_is_bounded_by_the_access_ttl() -> None:
    auth = load_settings({}).auth
    ttl = auth.access_ttl_seconds
    assert lifetime_is_allowed(1000, 1000 + ttl, auth)
    assert lifetime_is_allowed(1000, 1000 + ttl + LIFETIME_LEEWAY_SECONDS, auth)
    assert not lifetime_is_allowed(1000, 1000 + ttl + LIFETIME_LEEWAY_SECONDS + 1, auth)
    assert not lifetime_is_allowed(1000, 1000 + 10 * 365 * 86400, auth)
    assert not lifetime_is_allowed(1000, 999, auth)
    assert claims_lifetime_is_allowed({"iat": 1000, "exp": 1000 + ttl}, auth)
    assert not claims_lifetime_is_allowed({"exp": 1000 + ttl}, auth)
    assert not claims_lifetime_is_allowed({"iat": "1000", "exp": 1000 + ttl}, auth)


def _reference_max_depth(text: bytes) -> int:
    """Byte by byte, the obvious way: the deepest nesting outside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == ord("\\"):
                escaped = True
            elif byte == ord('"'):
                in_string = False
        elif byte == ord('"'):
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{}\n\u0416'),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='k"\\[{', max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON_VALUES, cuts=st.lists(st.integers(min_value=1, max_value=9), max_size=40))
def test_the_depth_scanner_agrees_with_a_byte_by_byte_reading(value: Any, cuts: list[int]) -> None:
    text = json.dumps(value, ensure_ascii=False).encode()
    deepest = _reference_max_depth(text)
    pieces, at = [], 0
    for cut in cuts:
        pieces.append(text[at : at + cut])
        at += cut
    pieces.append(text[at:])
    for limit in {max(deepest - 1, 0), deepest}:
        scanner = JsonDepthScanner(limit)
        exceeded = any([scanner.feed(piece) for piece in pieces])
        assert exceeded == (deepest > limit), (text, pieces, limit)


def test_serve_refuses_weak_production_secrets_with_one_clear_line() -> None:
    runner = CliRunner()
    for secret, message in (
        (DEV_JWT_SECRET, "NARYAD_JWT_SECRET is the public development secret"),
        ("s" * 31, "NARYAD_JWT_SECRET must be at least 32 bytes"),
    ):
        result = runner.invoke(
            main, ["serve"], env={"NARYAD_ENV": "production", "NARYAD_JWT_SECRET": secret}
        )
        assert result.exit_code == 1
        assert message in result.output
        assert "Traceback" not in result.output


def test_production_refuses_a_local_blob_store_not_declared_shared() -> None:
    production = {"NARYAD_ENV": "production", "NARYAD_JWT_SECRET": "k" * 32}
    with pytest.raises(SettingsError, match="NARYAD_BLOB_DIR_SHARED=1"):
        load_settings(production)
    with pytest.raises(SettingsError, match="NARYAD_BLOB_DIR_SHARED=1"):
        load_settings({**production, "NARYAD_STORAGE": "local", "NARYAD_BLOB_DIR_SHARED": "0"})
    shared = load_settings({**production, "NARYAD_BLOB_DIR_SHARED": "1"})
    assert (shared.storage.backend, shared.storage.local_dir_shared) == ("local", True)
    assert load_settings({**production, "NARYAD_STORAGE": "s3"}).storage.backend == "s3"
    # Development and tests keep the local directory without a declaration.
    assert load_settings({}).storage.backend == "local"


def test_serve_names_the_blob_dir_variable_when_production_uses_local_storage() -> None:
    result = CliRunner().invoke(
        main, ["serve"], env={"NARYAD_ENV": "production", "NARYAD_JWT_SECRET": "k" * 32}
    )
    assert result.exit_code == 1
    assert "NARYAD_BLOB_DIR_SHARED" in result.output
    assert "Traceback" not in result.output
