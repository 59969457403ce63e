"""Typed settings, read once from ``NARYAD_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

DEV_JWT_SECRET = "naryad-development-secret-change-me-0123456789"  # noqa: S105 - refused in production


class DatabaseSettings(msgspec.Struct, frozen=True):
    """Where PostgreSQL is and how many connections to keep."""

    url: str
    pool_size: int = 10
    max_overflow: int = 10
    echo: bool = False


class AuthSettings(msgspec.Struct, frozen=True):
    """Token lifetimes and the signing secret."""

    jwt_secret: str
    access_ttl_seconds: int = 15 * 60
    refresh_ttl_seconds: int = 30 * 24 * 3600
    issuer: str = "naryad"
    login_rate_per_minute: int = 20


class StorageSettings(msgspec.Struct, frozen=True):
    """Blob storage: a local directory (default) or S3."""

    backend: Literal["local", "s3"] = "local"
    local_dir: str = ".local/blobs"
    url_signing_key: str = ""
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_bucket: str = "naryad"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_create_bucket: bool = False
    s3_object_lock_days: int = 0
    url_ttl_seconds: int = 900


class ServerSettings(msgspec.Struct, frozen=True):
    """How the API is served and addressed from outside."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1024 * 1024
    debug: bool = False
    # `naryad serve --with-worker`: deliver notifications and run jobs inside the API process.
    embedded_worker: bool = False


class NotificationSettings(msgspec.Struct, frozen=True):
    """Outbox delivery: the channel adapter, retries and the worker's lease."""

    adapter: Literal["log", "webhook"] = "log"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_timeout_seconds: float = 10.0
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    poll_seconds: float = 1.0
    # A delivery must end well within its lease, or another worker re-sends it.
    lease_seconds: float = 60.0
    concurrency: int = 8
    retention_days: int = 30


class Settings(msgspec.Struct, frozen=True):
    """All settings, grouped."""

    environment: Literal["development", "test", "production"]
    database: DatabaseSettings
    auth: AuthSettings
    storage: StorageSettings
    server: ServerSettings
    notifications: NotificationSettings = NotificationSettings()


class SettingsError(ValueError):
    """A setting is missing or malformed."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


DEFAULT_DATABASE_URL = "postgresql+asyncpg://naryad:naryad@127.0.0.1:54329/naryad"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment; raises SettingsError with the variable's name."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(f"NARYAD_{name}")
        return value if value not in (None, "") else default

    def integer(name: str, default: int) -> int:
        raw = get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"NARYAD_{name} must be an integer, got {raw!r}") from exc

    def number(name: str, default: float) -> float:
        raw = get(name)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise SettingsError(f"NARYAD_{name} must be a number, got {raw!r}") from exc

    environment = get("ENV", "development")
    if environment not in ("development", "test", "production"):
        raise SettingsError("NARYAD_ENV must be development, test or production")
    secret = get("JWT_SECRET")
    if secret is None:
        if environment == "production":
            raise SettingsError("NARYAD_JWT_SECRET is required in production")
        secret = DEV_JWT_SECRET
    if len(secret) < 32:
        raise SettingsError("NARYAD_JWT_SECRET must be at least 32 characters")
    backend = get("STORAGE", "local")
    if backend not in ("local", "s3"):
        raise SettingsError("NARYAD_STORAGE must be local or s3")
    notify_adapter = get("NOTIFY_ADAPTER", "log")
    if notify_adapter not in ("log", "webhook"):
        raise SettingsError("NARYAD_NOTIFY_ADAPTER must be log or webhook")
    webhook_url, webhook_secret = get("NOTIFY_WEBHOOK_URL"), get("NOTIFY_WEBHOOK_SECRET")
    if notify_adapter == "webhook" and (not webhook_url or len(webhook_secret or "") < 16):
        raise SettingsError(
            "NARYAD_NOTIFY_ADAPTER=webhook needs NARYAD_NOTIFY_WEBHOOK_URL and "
            "NARYAD_NOTIFY_WEBHOOK_SECRET (at least 16 characters)"
        )
    notifications = NotificationSettings(
        adapter=notify_adapter,  # type: ignore[arg-type]
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_timeout_seconds=number("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", 10.0),
        max_attempts=integer("NOTIFY_MAX_ATTEMPTS", 8),
        backoff_base_seconds=number("NOTIFY_BACKOFF_BASE_SECONDS", 30.0),
        backoff_max_seconds=number("NOTIFY_BACKOFF_MAX_SECONDS", 3600.0),
        poll_seconds=number("WORKER_POLL_SECONDS", 1.0),
        lease_seconds=number("WORKER_LEASE_SECONDS", 60.0),
        concurrency=integer("WORKER_CONCURRENCY", 8),
        retention_days=integer("NOTIFY_RETENTION_DAYS", 30),
    )
    if notifications.max_attempts < 1 or notifications.concurrency < 1:
        raise SettingsError("NARYAD_NOTIFY_MAX_ATTEMPTS and NARYAD_WORKER_CONCURRENCY must be >= 1")
    if notifications.lease_seconds <= notifications.webhook_timeout_seconds:
        raise SettingsError(
            "NARYAD_WORKER_LEASE_SECONDS must exceed NARYAD_NOTIFY_WEBHOOK_TIMEOUT_SECONDS"
        )
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        database=DatabaseSettings(
            url=normalise_database_url(get("DATABASE_URL", DEFAULT_DATABASE_URL) or ""),
            pool_size=integer("DB_POOL_SIZE", 10),
            max_overflow=integer("DB_MAX_OVERFLOW", 10),
            echo=_bool(get("DB_ECHO", "0") or "0"),
        ),
        auth=AuthSettings(
            jwt_secret=secret,
            access_ttl_seconds=integer("ACCESS_TTL_SECONDS", 15 * 60),
            refresh_ttl_seconds=integer("REFRESH_TTL_SECONDS", 30 * 24 * 3600),
            login_rate_per_minute=integer("LOGIN_RATE_PER_MINUTE", 20),
        ),
        storage=StorageSettings(
            backend=backend,  # type: ignore[arg-type]
            local_dir=str(Path(get("BLOB_DIR", ".local/blobs") or ".local/blobs").absolute()),
            url_signing_key=get("URL_SIGNING_KEY", secret) or secret,
            s3_endpoint_url=get("S3_ENDPOINT_URL"),
            s3_region=get("S3_REGION", "us-east-1") or "us-east-1",
            s3_bucket=get("S3_BUCKET", "naryad") or "naryad",
            s3_access_key_id=get("S3_ACCESS_KEY_ID"),
            s3_secret_access_key=get("S3_SECRET_ACCESS_KEY"),
            s3_create_bucket=_bool(get("S3_CREATE_BUCKET", "0") or "0"),
            s3_object_lock_days=integer("S3_OBJECT_LOCK_DAYS", 0),
            url_ttl_seconds=integer("URL_TTL_SECONDS", 900),
        ),
        server=ServerSettings(
            host=get("HOST", "127.0.0.1") or "127.0.0.1",
            port=integer("PORT", 8000),
            public_base_url=(get("PUBLIC_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            max_body_bytes=integer("MAX_BODY_BYTES", 1024 * 1024),
            debug=_bool(get("DEBUG", "0") or "0"),
            embedded_worker=_bool(get("EMBEDDED_WORKER", "0") or "0"),
        ),
        notifications=notifications,
    )
