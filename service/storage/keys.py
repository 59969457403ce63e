"""Object keys: how they are built and which ones a store accepts."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

MAX_KEY_BYTES = 1024  # S3's limit; the local store inherits it so both accept the same keys

# A segment built by blob_key: conservative so it is safe as a file name and in a URL path.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,31}")
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class InvalidKey(ValueError):
    """The key is not a safe relative object key."""


def validate_key(key: str) -> str:
    """Return the key if both stores accept it, else raise InvalidKey.

    Keys are relative, '/'-separated paths with no empty, '.' or '..' segments, no segment
    starting with '.' (the local store keeps temp files and sidecars under such names), no
    backslash and no control characters (NUL included).
    """
    if not key or len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey("a key must be 1 to 1024 bytes long")
    if key.startswith("/"):
        raise InvalidKey("a key must be relative")
    if "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise InvalidKey("a key may not contain backslashes or control characters")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be file names or URLs
        raise InvalidKey("a key must be valid UTF-8") from exc
    for segment in key.split("/"):
        if not segment or segment.startswith(".") or segment != segment.strip():
            raise InvalidKey(
                "key segments must be non-empty, must not start with '.' "
                "and must not have surrounding whitespace"
            )
    return key


def validate_prefix(prefix: str) -> str:
    """Return a listing prefix ('' lists everything) or raise InvalidKey."""
    if prefix == "":
        return prefix
    # A prefix may end in '/' or mid-segment; validate it as if completed with a name.
    validate_key(prefix + "x" if prefix.endswith("/") else prefix)
    return prefix


def blob_key(kind: str, *parts: str) -> str:
    """Build a key from a kind and safe segments.

    ``blob_key("photos", "2026", "11", f"{uuid}.jpg")`` -> ``photos/2026/11/<uuid>.jpg``;
    ``blob_key("acts", str(act_id), f"{sha256}.pdf")`` -> ``acts/<act id>/<sha256>.pdf``.
    """
    if not _KIND.fullmatch(kind):
        raise InvalidKey(f"invalid key kind {kind!r}")
    if not parts:
        raise InvalidKey("a key needs at least one part after the kind")
    for part in parts:
        if not _SEGMENT.fullmatch(part) or ".." in part:
            raise InvalidKey(f"invalid key part {part!r}")
    return validate_key("/".join((kind, *parts)))


def photo_key(photo_id: uuid.UUID, *, extension: str, at: datetime | None = None) -> str:
    """``photos/<yyyy>/<mm>/<photo id>.<ext>``, partitioned by UTC month for cheap listing."""
    ext = extension.lower().lstrip(".")
    if not _EXTENSION.fullmatch(ext):
        raise InvalidKey(f"invalid extension {extension!r}")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    return blob_key("photos", f"{when.year:04d}", f"{when.month:02d}", f"{photo_id}.{ext}")


def act_key(act_id: uuid.UUID | str, sha256_hex: str) -> str:
    """``acts/<act id>/<sha256>.pdf``: content-addressed, so a stored act is never rewritten."""
    digest = sha256_hex.lower()
    if not _SHA256_HEX.fullmatch(digest):
        raise InvalidKey("sha256_hex must be 64 hexadecimal characters")
    return blob_key("acts", str(act_id), f"{digest}.pdf")
