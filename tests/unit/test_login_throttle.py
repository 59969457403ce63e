"""Pure parts of login protection: surfaces, windows and the back-off schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.auth.throttle import (
    account_key,
    backoff_seconds,
    limit_of,
    surface_of,
    whole_seconds,
    window_start,
)
from service.settings import AuthSettings, SettingsError, load_settings

AUTH = AuthSettings(jwt_secret="x" * 32)


def test_each_protected_surface_has_its_own_name() -> None:
    assert surface_of("POST", "/api/v1/auth/login") == "login"
    assert surface_of("POST", "/api/v1/auth/refresh") == "refresh"
    assert surface_of("POST", "/board/login") == "board_login"
    assert surface_of("POST", "/mobile/v1/sign/abc/otp") == "otp"
    assert surface_of("GET", "/board/login") is None  # the form itself is not an attempt
    assert surface_of("POST", "/mobile/v1/sign/abc") is None
    assert surface_of("POST", "/api/v1/work-orders") is None
    assert surface_of("GET", "/health") is None


def test_the_public_appeal_form_has_its_own_hourly_limit() -> None:
    assert surface_of("POST", "/appeal") == "appeal"
    assert surface_of("GET", "/appeal") is None  # reading the form is not sending one
    assert limit_of("appeal", AUTH) == (10, timedelta(hours=1))
    assert limit_of("login", AUTH) == (20, timedelta(minutes=1))
    hourly = load_settings({"NARYAD_APPEAL_RATE_PER_HOUR": "3"}).auth
    assert limit_of("appeal", hourly)[0] == 3
    assert limit_of("login", hourly)[0] == 20  # the login's limit is not the form's
    now = datetime(2026, 12, 4, 15, 42, 59, tzinfo=UTC)
    assert window_start(now, timedelta(hours=1)) == datetime(2026, 12, 4, 15, tzinfo=UTC)
    with pytest.raises(SettingsError, match="NARYAD_APPEAL_RATE_PER_HOUR"):
        load_settings({"NARYAD_APPEAL_RATE_PER_HOUR": "0"})


def test_back_off_is_free_then_doubles_up_to_the_cap() -> None:
    schedule = [backoff_seconds(n, AUTH) for n in range(13)]
    assert schedule[:5] == [0, 0, 0, 0, 0]
    assert schedule[5:12] == [1, 2, 4, 8, 16, 32, 64]
    assert backoff_seconds(15, AUTH) == 900  # 1024 s capped at 15 minutes
    assert backoff_seconds(10_000, AUTH) == 900  # no overflow for absurd counts


def test_windows_are_aligned_minutes_and_retry_after_is_never_zero() -> None:
    now = datetime(2026, 12, 4, 15, 42, 59, 900_000, tzinfo=UTC)
    assert window_start(now) == datetime(2026, 12, 4, 15, 42, tzinfo=UTC)
    assert whole_seconds(0.1) == 1
    assert whole_seconds(-3) == 1
    assert whole_seconds(1.2) == 2


def test_accounts_are_keyed_as_logins_look_users_up() -> None:
    assert account_key("  Admin ") == "admin"
    assert len(account_key("x" * 500)) == 64


def test_trusted_proxies_and_back_off_settings_are_checked() -> None:
    settings = load_settings({"NARYAD_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16,::1"})
    assert settings.server.trusted_proxies == ("10.0.0.5/32", "192.168.0.0/16", "::1/128")
    assert load_settings({}).server.trusted_proxies == ()
    with pytest.raises(SettingsError, match="NARYAD_TRUSTED_PROXIES"):
        load_settings({"NARYAD_TRUSTED_PROXIES": "proxy.local"})
    with pytest.raises(SettingsError, match="BACKOFF"):
        load_settings({"NARYAD_LOGIN_BACKOFF_MAX_SECONDS": "0.5"})
    with pytest.raises(SettingsError, match="RATE_PER_MINUTE"):
        load_settings({"NARYAD_LOGIN_RATE_PER_MINUTE": "0"})
