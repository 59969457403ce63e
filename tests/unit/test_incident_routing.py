"""Where a safety incident goes when no supervisor can be reached: NARYAD_SECURITY_DESK."""

from __future__ import annotations

from service.incidents.services import IncidentRouting
from service.settings import load_settings


def test_settings_read_the_security_desk() -> None:
    loaded = load_settings(
        {
            "NARYAD_ENV": "test",
            "NARYAD_DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1:5432/db",
            "NARYAD_SECURITY_DESK": "  security:hq ",
        }
    )
    assert loaded.notifications.security_desk == "security:hq"
    unset = load_settings(
        {"NARYAD_ENV": "test", "NARYAD_DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1/db"}
    )
    assert unset.notifications.security_desk is None
    assert IncidentRouting().desk("security", "T01") == "security:T01"
    assert IncidentRouting("security:hq").desk("security", "T01") == "security:hq"
    assert IncidentRouting("security:hq").desk("supervisor", "T01") == "supervisor:T01"
