"""Blob store on S3 or an S3-compatible service (MinIO, Ceph RGW, moto) through boto3."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import boto3.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from service.common.page_security import url_origin
from service.storage.base import (
    DEFAULT_MAX_OBJECT_SIZE,
    DEFAULT_URL_TTL_SECONDS,
    HASH_CHUNK_SIZE,
    BlobInfo,
    BlobListing,
    PresignedRequest,
    check_content_type,
    check_retain_until,
    check_size,
    check_ttl,
    content_disposition,
    normalise_sha256,
    sha256_b64_to_hex,
    sha256_hex_to_b64,
)
from service.storage.errors import (
    BlobNotFound,
    IntegrityError,
    ObjectLocked,
    StorageError,
    StorageUnavailable,
)
from service.storage.keys import validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from service.settings import StorageSettings

logger = logging.getLogger("naryad.storage.s3")

T = TypeVar("T")

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET_CODES = frozenset({"NoSuchBucket"})
_THROTTLE_CODES = frozenset(
    {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling"}
)
_ACCESS_DENIED_CODES = frozenset({"AccessDenied", "403"})

# One boto3 client per process and configuration: building one costs milliseconds (service
# model loading, credential resolution) and clients are thread-safe, sessions are not.
_clients: dict[tuple[object, ...], S3Client] = {}
_clients_lock = threading.Lock()


def client_config(*, path_style: bool) -> Config:
    """Botocore settings shared by every client this module builds."""
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if path_style else "auto"},
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
        # Matches anyio's default worker-thread limit, so threads never queue for a socket.
        max_pool_connections=40,
        # We send SHA-256 checksums ourselves; botocore's automatic CRC32 (and its aws-chunked
        # trailers) upsets older S3-compatible servers, and we hash downloads ourselves.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


# /ready answers within 2 s: its bucket HEAD waits 1 s for a socket and 1 s for an answer, once.
PROBE_TIMEOUT_SECONDS = 1.0


def probe_config(*, path_style: bool) -> Config:
    """Botocore settings for the readiness probe: short timeouts, no retries."""
    return client_config(path_style=path_style).merge(
        Config(
            connect_timeout=PROBE_TIMEOUT_SECONDS,
            read_timeout=PROBE_TIMEOUT_SECONDS,
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
    )


def new_client(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    config: Config | None = None,
) -> S3Client:
    """Build a boto3 S3 client (slow: use ``shared_client`` unless you need a fresh one)."""
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        config=config or client_config(path_style=endpoint_url is not None),
    )


def shared_client(
    *,
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
) -> S3Client:
    """The process-wide client for this endpoint and credentials, built on first use."""
    cache_key = (endpoint_url, region, access_key_id, secret_access_key)
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            client = _clients[cache_key] = new_client(
                endpoint_url=endpoint_url,
                region=region,
                access_key_id=access_key_id,
                secret_access_key=secret_access_key,
            )
        return client


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _translate(exc: Exception, key: str | None) -> Exception:
    """Map botocore failures onto the storage errors services understand."""
    if isinstance(exc, ClientError):
        code, status = _error_code(exc), _status(exc)
        if code in _NO_BUCKET_CODES:
            return StorageUnavailable(f"the bucket does not exist ({code})")
        if key is not None and code in _NOT_FOUND_CODES:
            return BlobNotFound(key)
        if status >= 500 or code in _THROTTLE_CODES:
            return StorageUnavailable(f"S3 answered {status} {code}")
        return StorageError(f"S3 refused the request: {status} {code}")
    if isinstance(exc, BotoCoreError) and not isinstance(exc, ParamValidationError):
        # Connection refused, timeouts, DNS, missing credentials: the store is not usable.
        return StorageUnavailable(f"S3 is unreachable: {type(exc).__name__}")
    return exc


# The presigned PUT's headers a browser must ask leave for (Content-Length it sets itself).
UPLOAD_HEADERS = frozenset({"content-type", "x-amz-checksum-sha256"})


def allows_put_from(rule: Mapping[str, Any], origin: str) -> bool:
    """Whether a bucket CORS rule lets a page of ``origin`` PUT a presigned upload: the method,
    the origin (S3's one ``*`` wildcard) and the headers the upload sends."""
    headers = {header.lower() for header in rule.get("AllowedHeaders", [])}
    return (
        "PUT" in rule.get("AllowedMethods", [])
        and any(fnmatchcase(origin, allowed) for allowed in rule.get("AllowedOrigins", []))
        and ("*" in headers or headers >= UPLOAD_HEADERS)
    )


def _strip_etag(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


class S3BlobStore:
    """Objects in one S3 bucket; blocking boto3 calls run in worker threads.

    The client is shared per process and built on first use; the bucket is created (when
    asked to) and its Object Lock and versioning status read on the first call that needs
    the network, not at import or construction time.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        create_bucket: bool = False,
        object_lock: bool = False,
        max_object_size: int = DEFAULT_MAX_OBJECT_SIZE,
        default_url_ttl: int = DEFAULT_URL_TTL_SECONDS,
        client: S3Client | None = None,
        browser_origin: str | None = None,
        public_endpoint_url: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._create_bucket = create_bucket
        self._object_lock = object_lock
        # The web origin whose pages PUT to presigned URLs (the technician's app): the bucket's
        # CORS rules must let it, or a browser refuses every photo upload.
        self.browser_origin = browser_origin
        # Where phones and staff browsers reach the store when the API reaches it by another
        # name (http://minio:9000 inside a compose network): presigned URLs are signed for it.
        self.public_endpoint_url = public_endpoint_url
        self.max_object_size = max_object_size
        self.default_url_ttl = check_ttl(default_url_ttl, default_url_ttl)
        self._client = client
        self._probe_client: S3Client | None = None
        self._prepare_lock = threading.Lock()
        self._prepared = False
        self.object_lock_enabled = False
        self.versioned = False

    @classmethod
    def from_settings(
        cls,
        settings: StorageSettings,
        *,
        max_object_size: int = DEFAULT_MAX_OBJECT_SIZE,
        browser_origin: str | None = None,
    ) -> S3BlobStore:
        """A store configured from ``NARYAD_S3_*`` settings."""
        return cls(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            create_bucket=settings.s3_create_bucket,
            object_lock=settings.s3_object_lock_days > 0,
            max_object_size=max_object_size,
            default_url_ttl=settings.url_ttl_seconds,
            browser_origin=browser_origin,
            public_endpoint_url=settings.s3_public_endpoint_url,
        )

    @functools.cached_property
    def presigner(self) -> S3Client:
        """The client presigned URLs are made with: for the public endpoint when there is one."""
        if self.public_endpoint_url is None:
            return self.client
        return shared_client(
            endpoint_url=self.public_endpoint_url,
            region=self.region,
            access_key_id=self._access_key_id,
            secret_access_key=self._secret_access_key,
        )

    @functools.cached_property
    def url_origin(self) -> str:
        """scheme://host[:port] of the presigned URLs (a browser's CSP must let pages reach it);
        read from a URL presigned for it, so the addressing style is boto3's own."""
        url = self.presigner.generate_presigned_url(
            "put_object", Params={"Bucket": self.bucket, "Key": "origin"}, ExpiresIn=60
        )
        return url_origin(url) or url

    # -- client and bucket -------------------------------------------------------------------

    @property
    def client(self) -> S3Client:
        """The boto3 client (built on first access, then shared)."""
        if self._client is None:
            self._client = shared_client(
                endpoint_url=self.endpoint_url,
                region=self.region,
                access_key_id=self._access_key_id,
                secret_access_key=self._secret_access_key,
            )
        return self._client

    def _ready_client(self) -> S3Client:
        client = self.client
        if not self._prepared:
            with self._prepare_lock:
                if not self._prepared:
                    self._prepare(client)
                    self._prepared = True
        return client

    def _prepare(self, client: S3Client) -> None:
        if self._create_bucket:
            self._ensure_bucket(client)
        if self.browser_origin is not None:
            self._allow_uploads_from(client, self.browser_origin)
        self.object_lock_enabled = self._read_object_lock(client)
        self.versioned = self.object_lock_enabled or self._read_versioning(client)
        if self._object_lock and not self.object_lock_enabled:
            logger.warning(
                "bucket %s has no Object Lock; acts will be stored without retention",
                self.bucket,
            )

    def _ensure_bucket(self, client: S3Client) -> None:
        try:
            client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _NOT_FOUND_CODES | _NO_BUCKET_CODES:
                raise
        extra: dict[str, Any] = {}
        if self.region != "us-east-1":  # us-east-1 refuses an explicit LocationConstraint
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            client.create_bucket(
                Bucket=self.bucket, ObjectLockEnabledForBucket=self._object_lock, **extra
            )
            logger.info("created bucket %s (object lock: %s)", self.bucket, self._object_lock)
        except ClientError as exc:
            # Another process won the race; that is fine.
            if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def _allow_uploads_from(self, client: S3Client, origin: str) -> None:
        """Make sure the bucket's CORS rules let ``origin`` PUT; rules already there are kept.

        Only a bucket naryad manages (``create_bucket``) is changed; on another one a missing
        rule is logged, since the operator owns its configuration."""
        # A CORS problem never stops the store: acts and the API's own reads do not need it.
        try:
            rules = list(client.get_bucket_cors(Bucket=self.bucket)["CORSRules"])
        except ClientError as exc:
            code = _error_code(exc)
            if code == "NotImplemented":  # MinIO: CORS is a server setting, all origins by default
                logger.info("bucket %s: CORS is the S3 server's own setting", self.bucket)
                return
            if code != "NoSuchCORSConfiguration":
                logger.warning("cannot read the CORS rules of %s: %s", self.bucket, code)
                return
            rules = []
        if any(allows_put_from(rule, origin) for rule in rules):
            return
        if not self._create_bucket:
            logger.warning(
                "bucket %s has no CORS rule letting %s PUT: phones cannot upload photos",
                self.bucket,
                origin,
            )
            return
        rules.append(
            {
                "AllowedOrigins": [origin],
                "AllowedMethods": ["PUT"],
                # The presigned PUT's signed headers (content type, length, checksum).
                "AllowedHeaders": ["*"],
                "ExposeHeaders": ["ETag"],
                "MaxAgeSeconds": 3600,
            }
        )
        try:
            client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": rules})
        except ClientError as exc:
            logger.warning(
                "cannot let %s upload to %s (CORS): %s", origin, self.bucket, _error_code(exc)
            )
            return
        logger.info("bucket %s: CORS lets %s upload", self.bucket, origin)

    def _read_object_lock(self, client: S3Client) -> bool:
        try:
            config = client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            code = _error_code(exc)
            if code in _NO_BUCKET_CODES or _status(exc) >= 500:
                raise
            if code in _ACCESS_DENIED_CODES:
                logger.warning("cannot read Object Lock status of %s: %s", self.bucket, code)
            return False  # ObjectLockConfigurationNotFoundError and the like
        status = config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        return status == "Enabled"

    def _read_versioning(self, client: S3Client) -> bool:
        try:
            status = client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as exc:
            if _error_code(exc) in _NO_BUCKET_CODES or _status(exc) >= 500:
                raise
            return False
        # Suspended buckets still hold old versions that delete() must remove.
        return status in ("Enabled", "Suspended")

    def _presign_client(self) -> S3Client:
        # Presigning needs no network, but a URL into a bucket we were asked to create must
        # not be handed out before the bucket exists.
        if self._create_bucket:
            self._ready_client()
        return self.presigner

    async def _call(self, func: Callable[..., T], *args: Any, key: str | None = None) -> T:
        def guarded() -> T:
            try:
                return func(*args)
            except (ClientError, BotoCoreError) as exc:
                raise _translate(exc, key) from exc

        return await anyio.to_thread.run_sync(guarded)

    # -- objects -----------------------------------------------------------------------------

    def _put_sync(
        self,
        key: str,
        data: bytes,
        content_type: str,
        sha256_hex: str | None,
        retain_until: datetime | None,
    ) -> BlobInfo:
        check_size(len(data), self.max_object_size)
        digest = hashlib.sha256(data).hexdigest()
        if sha256_hex is not None and digest != sha256_hex:
            raise IntegrityError(f"{key!r}: the bytes do not match the declared SHA-256")
        client = self._ready_client()
        extra: dict[str, Any] = {}
        applied_retention: datetime | None = None
        if retain_until is not None:
            if self.object_lock_enabled:
                extra["ObjectLockMode"] = "COMPLIANCE"
                extra["ObjectLockRetainUntilDate"] = retain_until
                applied_retention = retain_until
            else:
                logger.warning(
                    "bucket %s has no Object Lock; %s stored unretained", self.bucket, key
                )
        response = client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            # S3 verifies the body against this and records it; the metadata copy is for
            # S3-compatible servers that drop checksums.
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=sha256_hex_to_b64(digest),
            Metadata={"sha256": digest},
            **extra,
        )
        return BlobInfo(
            key=key,
            size=len(data),
            content_type=content_type,
            sha256=digest,
            etag=_strip_etag(response.get("ETag")),
            retain_until=applied_retention,
        )

    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        sha256_hex: str | None = None,
        retain_until: datetime | None = None,
    ) -> BlobInfo:
        """Upload bytes with a SHA-256 checksum; COMPLIANCE retention when the bucket has it."""
        validate_key(key)
        check_content_type(content_type)
        expected = normalise_sha256(sha256_hex) if sha256_hex is not None else None
        check_retain_until(retain_until)
        return await self._call(
            self._put_sync, key, data, content_type, expected, retain_until, key=key
        )

    def _get_sync(self, key: str) -> bytes:
        body = self._ready_client().get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            return body.read()
        finally:
            body.close()

    async def get(self, key: str) -> bytes:
        """The whole object; BlobNotFound when absent."""
        validate_key(key)
        return await self._call(self._get_sync, key, key=key)

    def _head_sync(self, key: str) -> BlobInfo | None:
        try:
            head = self._ready_client().head_object(
                Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return None
            raise
        checksum = head.get("ChecksumSHA256")
        sha256 = sha256_b64_to_hex(checksum) if checksum else None
        if sha256 is None:
            recorded = head.get("Metadata", {}).get("sha256")
            sha256 = recorded.lower() if recorded and len(recorded) == 64 else None
        return BlobInfo(
            key=key,
            size=head["ContentLength"],
            content_type=head.get("ContentType") or "application/octet-stream",
            sha256=sha256,
            etag=_strip_etag(head.get("ETag")),
            last_modified=head.get("LastModified"),
            retain_until=head.get("ObjectLockRetainUntilDate"),
        )

    async def head(self, key: str) -> BlobInfo | None:
        """Size, type, recorded checksum, ETag and retention; None when absent."""
        validate_key(key)
        return await self._call(self._head_sync, key, key=key)

    def _sha256_sync(self, key: str) -> str:
        body = self._ready_client().get_object(Bucket=self.bucket, Key=key)["Body"]
        hasher = hashlib.sha256()
        try:
            for chunk in body.iter_chunks(HASH_CHUNK_SIZE):
                hasher.update(chunk)
        finally:
            body.close()
        return hasher.hexdigest()

    async def sha256_of(self, key: str) -> str:
        """SHA-256 of the stored bytes, streamed and hashed here.

        We never answer from the object's recorded checksum: moto (and some S3-compatible
        servers) record whatever x-amz-checksum-* the uploader declared without checking it.
        Photos are at most 16 MiB, so one streamed GET per confirmation is cheap.
        """
        validate_key(key)
        return await self._call(self._sha256_sync, key, key=key)

    def _delete_sync(self, key: str) -> None:
        client = self._ready_client()
        if not self.versioned:
            client.delete_object(Bucket=self.bucket, Key=key)
            return
        # A plain DELETE on a versioned bucket only adds a delete marker and keeps the bytes,
        # so orphan cleanup would never free anything: remove every version of the key.
        versions: list[str] = []
        markers: list[str] = []
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
            versions += [v["VersionId"] for v in page.get("Versions", []) if v["Key"] == key]
            markers += [m["VersionId"] for m in page.get("DeleteMarkers", []) if m["Key"] == key]
        for version_id in versions + markers:
            try:
                client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
            except ClientError as exc:
                if _error_code(exc) in _ACCESS_DENIED_CODES and self.object_lock_enabled:
                    raise ObjectLocked(key) from exc
                raise

    async def delete(self, key: str) -> None:
        """Remove the object (every version); ObjectLocked while under retention."""
        validate_key(key)
        await self._call(self._delete_sync, key, key=key)

    def _list_sync(self, prefix: str) -> list[BlobListing]:
        paginator = self._ready_client().get_paginator("list_objects_v2")
        found: list[BlobListing] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found.append(BlobListing(item["Key"], item["Size"], item["LastModified"]))
        return found

    async def list_keys(self, prefix: str = "") -> list[BlobListing]:
        """Objects under prefix, in S3's (UTF-8 byte) key order."""
        validate_prefix(prefix)
        return await self._call(self._list_sync, prefix)

    # -- presigned URLs ----------------------------------------------------------------------

    def _presign_put_sync(
        self, key: str, content_type: str, size: int, checksum_b64: str, ttl: int
    ) -> PresignedRequest:
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        url = self._presign_client().generate_presigned_url(
            "put_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ContentType": content_type,
                "ContentLength": size,
                "ChecksumSHA256": checksum_b64,
            },
            ExpiresIn=ttl,
            HttpMethod="PUT",
        )
        # All three headers are in X-Amz-SignedHeaders: S3 refuses an upload that differs,
        # and rejects bytes whose SHA-256 is not the declared one.
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(size),
            "x-amz-checksum-sha256": checksum_b64,
        }
        return PresignedRequest(url=url, method="PUT", headers=headers, expires_at=expires_at)

    async def presign_put(
        self,
        key: str,
        *,
        content_type: str,
        size: int,
        sha256_hex: str,
        expires_in: int | None = None,
    ) -> PresignedRequest:
        """A presigned PUT bound to content type, length and SHA-256 (no network call)."""
        validate_key(key)
        return await self._call(
            self._presign_put_sync,
            key,
            check_content_type(content_type),
            check_size(size, self.max_object_size),
            sha256_hex_to_b64(sha256_hex),
            check_ttl(expires_in, self.default_url_ttl),
        )

    def _presign_get_sync(self, key: str, ttl: int, filename: str | None) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        return self._presign_client().generate_presigned_url(
            "get_object", Params=params, ExpiresIn=ttl, HttpMethod="GET"
        )

    async def presign_get(
        self, key: str, *, expires_in: int | None = None, filename: str | None = None
    ) -> str:
        """A presigned GET; filename makes the download an attachment (no network call)."""
        validate_key(key)
        ttl = check_ttl(expires_in, self.default_url_ttl)
        return await self._call(self._presign_get_sync, key, ttl, filename)

    def _ping_sync(self) -> None:
        if self._create_bucket and not self._prepared:
            self._ready_client()  # the bucket is made on first use; the probe only looks
        if self._probe_client is None:
            self._probe_client = new_client(
                endpoint_url=self.endpoint_url,
                region=self.region,
                access_key_id=self._access_key_id,
                secret_access_key=self._secret_access_key,
                config=probe_config(path_style=self.endpoint_url is not None),
            )
        self._probe_client.head_bucket(Bucket=self.bucket)

    async def ping(self) -> None:
        """HEAD the bucket; StorageUnavailable on any failure."""
        try:
            await self._call(self._ping_sync)
        except StorageUnavailable:
            raise
        except Exception as exc:
            # Missing bucket (HEAD answers a bare 404), access denied...: not ready either way.
            raise StorageUnavailable(f"bucket {self.bucket} is not usable: {exc}") from exc
