"""Typed settings, read once from ``NARYAD_*`` environment variables."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

DEV_JWT_SECRET = "naryad-development-secret-change-me-0123456789"  # noqa: S105 - refused in production


class DatabaseSettings(msgspec.Struct, frozen=True):
    """Where PostgreSQL is and how many connections to keep."""

    url: str
    # Eight API processes at 10 + 0 hold at most 80 connections: inside PostgreSQL's default
    # max_connections of 100 with room for workers, migrations and psql. No overflow: an
    # overflow connection is closed as soon as it is returned, so a steady load above the pool
    # size opened (TLS probe, authentication) and closed connections all the time (10% of a
    # served day request's CPU at 8 concurrent requests under 5 + 5; list 0.39 -> 0.44 and day
    # 0.34 -> 0.42 of the ceiling with 10 + 0, same maximum).
    pool_size: int = 10
    max_overflow: int = 0
    # Connections older than this are replaced at checkout (no pre-ping round trip per checkout).
    pool_recycle_seconds: int = 1800
    # Behind PgBouncer in transaction mode: no prepared statements survive a transaction.
    pgbouncer: bool = False
    echo: bool = False
    # NARYAD_READ_DATABASE_URL: a hot standby (streaming replica) of the primary, where the
    # coordinators' slow-moving figures (KPIs, the board's counts) are read; unset, they read
    # the primary (service/db/standby.py).
    read_url: str | None = None
    # Each process's own small pool to the standby (only those figures use it).
    read_pool_size: int = 2
    # Beyond this replay lag those figures are read from the primary instead.
    read_max_lag_seconds: float = 30.0


class AuthSettings(msgspec.Struct, frozen=True):
    """Token lifetimes and the signing secret."""

    jwt_secret: str
    access_ttl_seconds: int = 15 * 60
    refresh_ttl_seconds: int = 30 * 24 * 3600
    issuer: str = "naryad"
    # Per client address and per surface (login, refresh, board login, signing OTP).
    login_rate_per_minute: int = 20
    # Per account: this many failed logins are free, then 1 s, 2 s, 4 s... up to the cap.
    login_free_failures: int = 5
    login_backoff_base_seconds: float = 1.0
    login_backoff_max_seconds: float = 900.0
    # Per client address: appeals sent from the public form in an hour (a person writes a few;
    # a flood is refused with 429 before its body is read).
    appeal_rate_per_hour: int = 10

    def __post_init__(self) -> None:
        """Refuse login-protection values that would switch it off or lock everyone out."""
        if self.login_rate_per_minute < 1 or self.login_free_failures < 0:
            raise SettingsError(
                "NARYAD_LOGIN_RATE_PER_MINUTE must be >= 1 and NARYAD_LOGIN_FREE_FAILURES >= 0"
            )
        if self.appeal_rate_per_hour < 1:
            raise SettingsError("NARYAD_APPEAL_RATE_PER_HOUR must be >= 1")
        if not 0 < self.login_backoff_base_seconds <= self.login_backoff_max_seconds <= 86_400:
            raise SettingsError(
                "NARYAD_LOGIN_BACKOFF_BASE_SECONDS must be > 0 and at most "
                "NARYAD_LOGIN_BACKOFF_MAX_SECONDS, which is at most 86400"
            )


class StorageSettings(msgspec.Struct, frozen=True):
    """Blob storage: a local directory (default) or S3."""

    backend: Literal["local", "s3"] = "local"
    local_dir: str = ".local/blobs"
    # NARYAD_BLOB_DIR_SHARED=1: every API and worker process sees the same directory (one
    # machine, or a shared volume); production refuses the local store without it.
    local_dir_shared: bool = False
    url_signing_key: str = ""
    s3_endpoint_url: str | None = None
    # The same store as phones and browsers reach it, when that differs (presigned URLs).
    s3_public_endpoint_url: str | None = None
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
    # The longest wait for the next piece of a request body before answering 408.
    body_read_timeout_seconds: float = 30.0
    # JSON nested deeper than this is refused (400) before it is decoded.
    max_json_depth: int = 64
    debug: bool = False
    # `naryad serve --with-worker`: deliver notifications and run jobs inside the API process.
    embedded_worker: bool = False
    # CIDRs of reverse proxies whose X-Forwarded-For/-Proto count (none: the peer address).
    trusted_proxies: tuple[str, ...] = ()
    # gzip level of JSON/HTML responses: 1 costs a fraction of 9 for nearly the same size on
    # JSON; 0 leaves compression to the reverse proxy.
    gzip_level: int = 1


class ObservabilitySettings(msgspec.Struct, frozen=True):
    """Metrics, logs and traces."""

    # NARYAD_METRICS_TOKEN: /metrics answers only with ``Authorization: Bearer <token>``;
    # unset, only clients on the loopback address may scrape it.
    metrics_token: str | None = None
    # NARYAD_LOG_FORMAT: ``json`` (one object a line, for collectors) or ``console``.
    log_format: Literal["json", "console"] = "console"
    log_level: str = "INFO"
    # NARYAD_OTEL_EXPORTER_OTLP_ENDPOINT: traces of requests and SQL go there when set.
    otel_endpoint: str | None = None


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
    # Where a safety incident goes when no supervisor of the territory can be reached (the
    # gateway's address of the security desk); unset: the territory's desk, ``security:CODE``.
    security_desk: str | None = None


class EscalationSettings(msgspec.Struct, frozen=True):
    """When a breached clock reaches the head of unit, and the new date customers are given."""

    head_delay_minutes: int = 240
    # The new control date when no visit is booked: this long after the apology.
    apology_extension_minutes: int = 1440


class IssuerSettings(msgspec.Struct, frozen=True):
    """The company named on acts (Исполнитель) and the prefixes of its act numbers."""

    legal_name: str = "naryad demo issuer"
    tax_id: str = "000000000000"
    tax_id_kind: Literal["bin", "inn"] = "bin"
    address: str = "Almaty"
    phone: str = "+7 700 000 00 00"
    # Where acts are drawn up ("г. Алматы"), printed under the title; empty: the visit's
    # territory name (a company working in several cities draws each act up where it works).
    place: str = ""
    completion_prefix: str = "АВР"
    handover_prefix: str = "АСП"


class SealSettings(msgspec.Struct, frozen=True):
    """Optional PAdES seal of final act PDFs with the issuer's PKCS#12 certificate."""

    pkcs12_path: str | None = None
    passphrase: str | None = None
    passphrase_file: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether a certificate is configured."""
        return self.pkcs12_path is not None


class RatingSettings(msgspec.Struct, frozen=True):
    """The customer's rating link and the follow-up a poor rating opens."""

    # NARYAD_RATING_LINK_DAYS: how long the single-use rating link stays valid.
    link_days: int = 7
    # NARYAD_FOLLOW_UP_WORKING_DAYS: a follow-up is due at the end of this many working days
    # on the territory's calendar after the rating (004 App. 1: contact within 2 working days).
    follow_up_working_days: int = 2


class CustomerLinkSettings(msgspec.Struct, frozen=True):
    """Links a customer opens without an account (the signing link's lifetime is fixed)."""

    # NARYAD_COPY_LINK_DAYS: how long the link to the customer's copy of a signed act works.
    copy_link_days: int = 365


_TAX_ID = re.compile(r"[0-9]{9,12}")
_ACT_PREFIX = re.compile(r"[^\s/\\]{1,12}")


class MapSettings(msgspec.Struct, frozen=True):
    """The dispatch map's background: raster tiles only when a tile server is configured."""

    # e.g. https://tiles.example.kz/{z}/{x}/{y}.png; None: outlines and points on plain ground.
    tile_url: str | None = None
    tile_attribution: str = ""


class MobileSettings(msgspec.Struct, frozen=True):
    """What the technician's phone is told with its day bundle."""

    # The longer side of a photo after the phone downscales it: enough to read a meter's serial,
    # small enough to upload from a basement on a weak signal. At most 4096: a JPEG that size stays
    # well inside the confirm's limits (15 MB, 60 megapixels).
    photo_max_side_px: int = 1600


def _map_settings(env: Mapping[str, str]) -> MapSettings:
    url = env.get("NARYAD_MAP_TILE_URL") or None
    placeholders = ("{z}", "{x}", "{y}")
    if url is not None and (
        not url.startswith(("https://", "http://")) or not all(p in url for p in placeholders)
    ):
        raise SettingsError("NARYAD_MAP_TILE_URL must be an http(s) URL with {z}, {x} and {y}")
    return MapSettings(tile_url=url, tile_attribution=env.get("NARYAD_MAP_TILE_ATTRIBUTION", ""))


def _issuer_settings(env: Mapping[str, str]) -> IssuerSettings:
    def get(name: str, default: str) -> str:
        return (env.get(f"NARYAD_{name}") or "").strip() or default

    default = IssuerSettings()
    issuer = IssuerSettings(
        legal_name=get("ISSUER_LEGAL_NAME", default.legal_name),
        tax_id=get("ISSUER_TAX_ID", default.tax_id),
        tax_id_kind=get("ISSUER_TAX_ID_KIND", default.tax_id_kind),  # type: ignore[arg-type]
        address=get("ISSUER_ADDRESS", default.address),
        phone=get("ISSUER_PHONE", default.phone),
        place=get("ISSUER_PLACE", default.place),
        completion_prefix=get("ACT_PREFIX_COMPLETION", default.completion_prefix),
        handover_prefix=get("ACT_PREFIX_HANDOVER", default.handover_prefix),
    )
    if not _TAX_ID.fullmatch(issuer.tax_id):
        raise SettingsError("NARYAD_ISSUER_TAX_ID must be 9 to 12 digits")
    if issuer.tax_id_kind not in ("bin", "inn"):
        raise SettingsError("NARYAD_ISSUER_TAX_ID_KIND must be bin or inn")
    for name, prefix in (
        ("ACT_PREFIX_COMPLETION", issuer.completion_prefix),
        ("ACT_PREFIX_HANDOVER", issuer.handover_prefix),
    ):
        if not _ACT_PREFIX.fullmatch(prefix):
            raise SettingsError(f"NARYAD_{name} must be 1 to 12 characters without spaces or '/'")
    for name, value in (
        ("ISSUER_LEGAL_NAME", issuer.legal_name),
        ("ISSUER_ADDRESS", issuer.address),
        ("ISSUER_PHONE", issuer.phone),
        ("ISSUER_PLACE", issuer.place),
    ):
        if len(value) > 300:
            raise SettingsError(f"NARYAD_{name} must be at most 300 characters")
    return issuer


def _seal_settings(env: Mapping[str, str]) -> SealSettings:
    def get(name: str) -> str | None:
        return env.get(f"NARYAD_{name}") or None

    seal = SealSettings(
        pkcs12_path=get("SEAL_PKCS12"),
        passphrase=get("SEAL_PASSPHRASE"),
        passphrase_file=get("SEAL_PASSPHRASE_FILE"),
    )
    if seal.passphrase is not None and seal.passphrase_file is not None:
        raise SettingsError("Set NARYAD_SEAL_PASSPHRASE or NARYAD_SEAL_PASSPHRASE_FILE, not both")
    if not seal.enabled and (seal.passphrase or seal.passphrase_file):
        raise SettingsError("NARYAD_SEAL_PASSPHRASE* is set but NARYAD_SEAL_PKCS12 is not")
    return seal


class Settings(msgspec.Struct, frozen=True):
    """All settings, grouped."""

    environment: Literal["development", "test", "production"]
    database: DatabaseSettings
    auth: AuthSettings
    storage: StorageSettings
    server: ServerSettings
    notifications: NotificationSettings = NotificationSettings()
    issuer: IssuerSettings = IssuerSettings()
    seal: SealSettings = SealSettings()
    ratings: RatingSettings = RatingSettings()
    escalation: EscalationSettings = EscalationSettings()
    customer_links: CustomerLinkSettings = CustomerLinkSettings()
    map: MapSettings = MapSettings()
    mobile: MobileSettings = MobileSettings()
    observability: ObservabilitySettings = ObservabilitySettings()


class SettingsError(ValueError):
    """A setting is missing or malformed."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_INTEGER = re.compile(r"[+-]?[0-9]+")


def decode_bool(name: str, raw: str) -> bool:
    """A boolean variable: true/false, 1/0, yes/no, on/off in any case; anything else is an
    error naming the variable (a typo such as "ture" must not quietly read as false)."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"NARYAD_{name} must be true or false (1/0, yes/no, on/off), got {raw!r}")


def decode_int(name: str, raw: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number in decimal digits ("1e3", "1_000" and "12.0" are refused), within bounds."""
    value = raw.strip()
    if not _INTEGER.fullmatch(value):
        raise SettingsError(f"NARYAD_{name} must be an integer, got {raw!r}")
    number = int(value)
    _check_bounds(name, number, low, high)
    return number


def decode_float(name: str, raw: str, low: float | None = None, high: float | None = None) -> float:
    """A finite decimal number ("nan" and "inf" are refused), within bounds."""
    try:
        number = float(raw.strip())
    except ValueError as exc:
        raise SettingsError(f"NARYAD_{name} must be a number, got {raw!r}") from exc
    if not math.isfinite(number):
        raise SettingsError(f"NARYAD_{name} must be a finite number, got {raw!r}")
    _check_bounds(name, number, low, high)
    return number


def _check_bounds(name: str, value: float, low: float | None, high: float | None) -> None:
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            span = f"at least {low:g}"
        elif low is None:
            span = f"at most {high:g}"
        else:
            span = f"{low:g} to {high:g}"
        raise SettingsError(f"NARYAD_{name} must be {span}, got {value:g}")


def decode_choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    """One of a fixed set of words, exactly as written in the documentation (lower case)."""
    value = raw.strip()
    if value not in allowed:
        raise SettingsError(f"NARYAD_{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return value


def decode_url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    """An absolute URL with one of ``schemes`` and a host."""
    value = raw.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise SettingsError(f"NARYAD_{name} is not a valid URL: {raw!r}") from exc
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(
            f"NARYAD_{name} must be a {' or '.join(schemes)} URL with a host, got {raw!r}"
        )
    return value


def _trusted_proxies(raw: str | None) -> tuple[str, ...]:
    """NARYAD_TRUSTED_PROXIES: comma-separated addresses or CIDRs, normalised."""
    networks: list[str] = []
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError as exc:
            raise SettingsError(
                f"NARYAD_TRUSTED_PROXIES: {part.strip()!r} is not an address or CIDR"
            ) from exc
    return tuple(networks)


MIN_SECRET_BYTES = 32


def _check_secret_length(name: str, value: str) -> None:
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(f"NARYAD_{name} must be at least {MIN_SECRET_BYTES} bytes")


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _read_database_url(url: str | None) -> str | None:
    return None if url is None else normalise_database_url(url)


DEFAULT_DATABASE_URL = "postgresql+asyncpg://naryad:naryad@127.0.0.1:54329/naryad"
DATABASE_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg", "postgresql+psycopg")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment; raises SettingsError with the variable's name."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(f"NARYAD_{name}")
        return value if value not in (None, "") else default

    def integer(name: str, default: int, low: int | None = None, high: int | None = None) -> int:
        raw = get(name)
        return default if raw is None else decode_int(name, raw, low, high)

    def number(name: str, default: float, low: float = 0.0, high: float | None = None) -> float:
        raw = get(name)
        return default if raw is None else decode_float(name, raw, low, high)

    def flag(name: str) -> bool:
        raw = get(name)
        return False if raw is None else decode_bool(name, raw)

    def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
        raw = get(name)
        return default if raw is None else decode_choice(name, raw, allowed)

    def url(name: str, schemes: tuple[str, ...]) -> str | None:
        raw = get(name)
        return None if raw is None else decode_url(name, raw, schemes)

    environment = choice("ENV", "development", ("development", "test", "production"))
    secret = get("JWT_SECRET")
    if secret is None:
        if environment == "production":
            raise SettingsError("NARYAD_JWT_SECRET is required in production")
        secret = DEV_JWT_SECRET
    if environment == "production" and secret == DEV_JWT_SECRET:
        raise SettingsError(
            "NARYAD_JWT_SECRET is the public development secret; production needs its own"
        )
    _check_secret_length("JWT_SECRET", secret)
    if environment == "production":
        # Every secret an attacker could brute-force offline from what the service hands out.
        for name in ("URL_SIGNING_KEY", "NOTIFY_WEBHOOK_SECRET"):
            value = get(name)
            if value is not None:
                _check_secret_length(name, value)
    backend = choice("STORAGE", "local", ("local", "s3"))
    notify_adapter = choice("NOTIFY_ADAPTER", "log", ("log", "webhook"))
    webhook_url = url("NOTIFY_WEBHOOK_URL", ("https", "http"))
    webhook_secret = get("NOTIFY_WEBHOOK_SECRET")
    blob_dir_shared = flag("BLOB_DIR_SHARED")
    if environment == "production" and backend == "local" and not blob_dir_shared:
        # A photo PUT to one machine's directory is invisible to the confirm call on another.
        raise SettingsError(
            "NARYAD_STORAGE=local in production needs NARYAD_BLOB_DIR_SHARED=1 (every process "
            "sees the same NARYAD_BLOB_DIR); otherwise use NARYAD_STORAGE=s3"
        )
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
        max_attempts=integer("NOTIFY_MAX_ATTEMPTS", 8, 1),
        backoff_base_seconds=number("NOTIFY_BACKOFF_BASE_SECONDS", 30.0),
        backoff_max_seconds=number("NOTIFY_BACKOFF_MAX_SECONDS", 3600.0),
        poll_seconds=number("WORKER_POLL_SECONDS", 1.0),
        lease_seconds=number("WORKER_LEASE_SECONDS", 60.0),
        concurrency=integer("WORKER_CONCURRENCY", 8, 1),
        retention_days=integer("NOTIFY_RETENTION_DAYS", 30, 1),
        security_desk=(get("SECURITY_DESK") or "").strip()[:1024] or None,
    )
    if notifications.max_attempts < 1 or notifications.concurrency < 1:
        raise SettingsError("NARYAD_NOTIFY_MAX_ATTEMPTS and NARYAD_WORKER_CONCURRENCY must be >= 1")
    if notifications.lease_seconds <= notifications.webhook_timeout_seconds:
        raise SettingsError(
            "NARYAD_WORKER_LEASE_SECONDS must exceed NARYAD_NOTIFY_WEBHOOK_TIMEOUT_SECONDS"
        )
    ratings = RatingSettings(
        link_days=integer("RATING_LINK_DAYS", 7),
        follow_up_working_days=integer("FOLLOW_UP_WORKING_DAYS", 2),
    )
    if not 1 <= ratings.link_days <= 90 or not 1 <= ratings.follow_up_working_days <= 30:
        raise SettingsError(
            "NARYAD_RATING_LINK_DAYS must be 1 to 90 and NARYAD_FOLLOW_UP_WORKING_DAYS 1 to 30"
        )
    escalation = EscalationSettings(
        head_delay_minutes=integer("ESCALATION_HEAD_DELAY_MINUTES", 240),
        apology_extension_minutes=integer("ESCALATION_APOLOGY_EXTENSION_MINUTES", 1440),
    )
    if not 1 <= escalation.head_delay_minutes <= 43_200:
        raise SettingsError("NARYAD_ESCALATION_HEAD_DELAY_MINUTES must be 1 to 43200")
    if not 60 <= escalation.apology_extension_minutes <= 43_200:
        raise SettingsError("NARYAD_ESCALATION_APOLOGY_EXTENSION_MINUTES must be 60 to 43200")
    body_read_timeout = number("BODY_READ_TIMEOUT_SECONDS", 30.0)
    if not 0.1 <= body_read_timeout <= 3600:
        raise SettingsError("NARYAD_BODY_READ_TIMEOUT_SECONDS must be 0.1 to 3600")
    max_json_depth = integer("MAX_JSON_DEPTH", 64)
    if not 8 <= max_json_depth <= 512:
        # Beyond a few hundred levels msgspec and the handlers run out of Python stack.
        raise SettingsError("NARYAD_MAX_JSON_DEPTH must be 8 to 512")
    gzip_level = integer("GZIP_LEVEL", 1, 0, 9)  # 0: off, the reverse proxy compresses
    log_level = choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
    default_format = "json" if environment == "production" else "console"
    observability = ObservabilitySettings(
        metrics_token=get("METRICS_TOKEN"),
        log_format="json"
        if choice("LOG_FORMAT", default_format, ("json", "console")) == "json"
        else "console",
        log_level=log_level,
        otel_endpoint=url("OTEL_EXPORTER_OTLP_ENDPOINT", ("https", "http")),
    )
    if observability.metrics_token is not None:
        _check_secret_length("METRICS_TOKEN", observability.metrics_token)
    customer_links = CustomerLinkSettings(copy_link_days=integer("COPY_LINK_DAYS", 365))
    if not 1 <= customer_links.copy_link_days <= 3660:
        raise SettingsError("NARYAD_COPY_LINK_DAYS must be 1 to 3660")
    return Settings(
        environment=environment,  # type: ignore[arg-type]
        database=DatabaseSettings(
            url=normalise_database_url(
                url("DATABASE_URL", DATABASE_SCHEMES) or DEFAULT_DATABASE_URL
            ),
            pool_size=integer("DB_POOL_SIZE", 10, 1, 1000),
            max_overflow=integer("DB_MAX_OVERFLOW", 0, 0, 1000),
            pool_recycle_seconds=integer("DB_POOL_RECYCLE_SECONDS", 1800, 1),
            pgbouncer=flag("DB_PGBOUNCER"),
            echo=flag("DB_ECHO"),
            read_url=_read_database_url(url("READ_DATABASE_URL", DATABASE_SCHEMES)),
            read_pool_size=integer("READ_DB_POOL_SIZE", 2, 1, 100),
            read_max_lag_seconds=number("READ_MAX_LAG_SECONDS", 30.0, 0.0, 86_400.0),
        ),
        auth=AuthSettings(
            jwt_secret=secret,
            access_ttl_seconds=integer("ACCESS_TTL_SECONDS", 15 * 60, 1),
            refresh_ttl_seconds=integer("REFRESH_TTL_SECONDS", 30 * 24 * 3600, 1),
            login_rate_per_minute=integer("LOGIN_RATE_PER_MINUTE", 20),
            login_free_failures=integer("LOGIN_FREE_FAILURES", 5),
            login_backoff_base_seconds=number("LOGIN_BACKOFF_BASE_SECONDS", 1.0),
            login_backoff_max_seconds=number("LOGIN_BACKOFF_MAX_SECONDS", 900.0),
            appeal_rate_per_hour=integer("APPEAL_RATE_PER_HOUR", 10),
        ),
        storage=StorageSettings(
            backend=backend,  # type: ignore[arg-type]
            local_dir=str(Path(get("BLOB_DIR", ".local/blobs") or ".local/blobs").absolute()),
            local_dir_shared=blob_dir_shared,
            url_signing_key=get("URL_SIGNING_KEY", secret) or secret,
            s3_endpoint_url=url("S3_ENDPOINT_URL", ("https", "http")),
            s3_public_endpoint_url=url("S3_PUBLIC_ENDPOINT_URL", ("https", "http")),
            s3_region=get("S3_REGION", "us-east-1") or "us-east-1",
            s3_bucket=get("S3_BUCKET", "naryad") or "naryad",
            s3_access_key_id=get("S3_ACCESS_KEY_ID"),
            s3_secret_access_key=get("S3_SECRET_ACCESS_KEY"),
            s3_create_bucket=flag("S3_CREATE_BUCKET"),
            s3_object_lock_days=integer("S3_OBJECT_LOCK_DAYS", 0, 0),
            url_ttl_seconds=integer("URL_TTL_SECONDS", 900, 1),
        ),
        server=ServerSettings(
            host=get("HOST", "127.0.0.1") or "127.0.0.1",
            port=integer("PORT", 8000, 1, 65535),
            public_base_url=(
                url("PUBLIC_BASE_URL", ("https", "http")) or "http://127.0.0.1:8000"
            ).rstrip("/"),
            max_body_bytes=integer("MAX_BODY_BYTES", 1024 * 1024, 1),
            body_read_timeout_seconds=body_read_timeout,
            max_json_depth=max_json_depth,
            debug=flag("DEBUG"),
            embedded_worker=flag("EMBEDDED_WORKER"),
            trusted_proxies=_trusted_proxies(get("TRUSTED_PROXIES")),
            gzip_level=gzip_level,
        ),
        notifications=notifications,
        issuer=_issuer_settings(env),
        seal=_seal_settings(env),
        ratings=ratings,
        escalation=escalation,
        customer_links=customer_links,
        map=_map_settings(env),
        mobile=MobileSettings(photo_max_side_px=integer("PHOTO_MAX_SIDE", 1600, 320, 4096)),
        observability=observability,
    )
