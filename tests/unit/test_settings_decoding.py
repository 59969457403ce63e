"""Settings are decoded strictly: a malformed value stops startup and names its variable."""

from __future__ import annotations

import pytest

from service.settings import SettingsError, load_settings


def _load(**variables: str) -> object:
    return load_settings({f"NARYAD_{k}": v for k, v in variables.items()})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("OFF", False),
        ("0", False),
    ],
)
def test_booleans_accept_the_documented_words(raw: str, expected: bool) -> None:
    settings = load_settings({"NARYAD_DEBUG": raw, "NARYAD_S3_CREATE_BUCKET": raw})
    assert settings.server.debug is expected
    assert settings.storage.s3_create_bucket is expected


@pytest.mark.parametrize("raw", ["ture", "y", "2", "enabled", "нет", "-1", "true!"])
@pytest.mark.parametrize("name", ["DEBUG", "DB_ECHO", "S3_CREATE_BUCKET", "EMBEDDED_WORKER"])
def test_a_misspelt_boolean_is_a_startup_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=f"NARYAD_{name} must be true or false") as caught:
        _load(**{name: raw})
    assert repr(raw) in str(caught.value)


def test_an_empty_variable_means_the_default() -> None:
    settings = load_settings({"NARYAD_DEBUG": "", "NARYAD_PORT": ""})
    assert settings.server.debug is False
    assert settings.server.port == 8000


@pytest.mark.parametrize("raw", ["12.0", "1e3", "1_000", "eight", "0x10", "8 0"])
def test_integers_are_decimal_digits_only(raw: str) -> None:
    with pytest.raises(SettingsError, match="NARYAD_PORT must be an integer"):
        _load(PORT=raw)


def test_integers_within_bounds() -> None:
    assert load_settings({"NARYAD_PORT": " 8081 "}).server.port == 8081
    for raw in ("0", "65536", "-80"):
        with pytest.raises(SettingsError, match="NARYAD_PORT must be 1 to 65535"):
            _load(PORT=raw)
    with pytest.raises(SettingsError, match="NARYAD_DB_POOL_SIZE must be 1 to 1000"):
        _load(DB_POOL_SIZE="0")
    with pytest.raises(SettingsError, match="NARYAD_NOTIFY_MAX_ATTEMPTS must be at least 1"):
        _load(NOTIFY_MAX_ATTEMPTS="0")


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "ten", "1,5"])
def test_numbers_must_be_finite_decimals(raw: str) -> None:
    with pytest.raises(SettingsError, match="NARYAD_WORKER_POLL_SECONDS must be a"):
        _load(WORKER_POLL_SECONDS=raw)


def test_negative_durations_are_refused() -> None:
    with pytest.raises(SettingsError, match="POLL_SECONDS must be at least 0, got -1"):
        _load(WORKER_POLL_SECONDS="-1")


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ENV", "prod"),
        ("ENV", "Production"),
        ("STORAGE", "S3"),
        ("STORAGE", "minio"),
        ("NOTIFY_ADAPTER", "sms"),
    ],
)
def test_enumerations_name_the_variable_and_the_choices(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=f"NARYAD_{name} must be one of") as caught:
        _load(**{name: raw})
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("DATABASE_URL", "localhost:5432/naryad"),
        ("DATABASE_URL", "mysql://u:p@db/naryad"),
        ("DATABASE_URL", "postgresql:///naryad"),
        ("READ_DATABASE_URL", "standby.internal:5432/naryad"),
        ("S3_ENDPOINT_URL", "127.0.0.1:9000"),
        ("S3_ENDPOINT_URL", "ftp://s3.example.kz"),
        ("S3_ENDPOINT_URL", "http://s3.example.kz:port"),
        ("PUBLIC_BASE_URL", "naryad.example.kz"),
        ("NOTIFY_WEBHOOK_URL", "gateway/sms"),
    ],
)
def test_urls_need_a_known_scheme_and_a_host(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=f"NARYAD_{name} ") as caught:
        _load(**{name: raw})
    assert repr(raw) in str(caught.value)


def test_good_urls_are_kept() -> None:
    settings = load_settings(
        {
            "NARYAD_DATABASE_URL": "postgresql://naryad:secret@db.internal:5432/naryad",
            "NARYAD_S3_ENDPOINT_URL": "http://127.0.0.1:59000",
            "NARYAD_PUBLIC_BASE_URL": "https://naryad.example.kz/",
        }
    )
    assert settings.database.url == "postgresql+asyncpg://naryad:secret@db.internal:5432/naryad"
    assert settings.storage.s3_endpoint_url == "http://127.0.0.1:59000"
    assert settings.server.public_base_url == "https://naryad.example.kz"


def test_the_read_database_is_optional_and_its_lag_bounded() -> None:
    assert load_settings({}).database.read_url is None
    settings = load_settings(
        {
            "NARYAD_READ_DATABASE_URL": "postgresql://naryad:secret@standby.internal/naryad",
            "NARYAD_READ_MAX_LAG_SECONDS": "12.5",
            "NARYAD_READ_DB_POOL_SIZE": "3",
        }
    )
    assert (
        settings.database.read_url == "postgresql+asyncpg://naryad:secret@standby.internal/naryad"
    )
    assert (settings.database.read_max_lag_seconds, settings.database.read_pool_size) == (12.5, 3)
    assert load_settings({}).database.read_max_lag_seconds == 30.0
    for raw in ("-1", "nan", "a minute"):
        with pytest.raises(SettingsError, match="NARYAD_READ_MAX_LAG_SECONDS"):
            _load(READ_MAX_LAG_SECONDS=raw)


def test_the_photo_size_phones_downscale_to_is_bounded() -> None:
    assert load_settings({}).mobile.photo_max_side_px == 1600
    assert _load(PHOTO_MAX_SIDE="1024").mobile.photo_max_side_px == 1024  # type: ignore[attr-defined]
    # Below 320 px a meter's serial is unreadable; above 4096 a photo may outgrow the confirm's
    # limits (15 MB, 60 megapixels).
    for raw in ("319", "4097", "1600px", "0"):
        with pytest.raises(SettingsError, match="NARYAD_PHOTO_MAX_SIDE"):
            _load(PHOTO_MAX_SIDE=raw)


def test_the_stores_public_endpoint_is_an_http_url() -> None:
    assert load_settings({}).storage.s3_public_endpoint_url is None
    settings = load_settings({"NARYAD_S3_PUBLIC_ENDPOINT_URL": "https://files.example.kz"})
    assert settings.storage.s3_public_endpoint_url == "https://files.example.kz"
    with pytest.raises(SettingsError, match="NARYAD_S3_PUBLIC_ENDPOINT_URL"):
        _load(S3_PUBLIC_ENDPOINT_URL="minio:9000")
