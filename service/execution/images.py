"""Is this photo what the phone said it is? Pure checks on the bytes, no I/O.

JPEG, PNG and WebP are decoded for real (a header alone proves nothing: a truncated upload has
a perfect header). HEIC cannot be decoded here (Pillow has no HEVC decoder), so it is checked
as an ISO-BMFF (HEIF) container: an ``ftyp`` box with a HEVC image brand and a ``meta`` box.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# The same bound the act renderer applies (reports.assets): a photo it would refuse to embed
# is refused here, at upload time, instead of at signing time.
MAX_PHOTO_PIXELS = 60_000_000
# Pillow's format name for each media type a photo may be declared as (HEIC is not decoded).
DECODED_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
HEIC_TYPE = "image/heic"
# Major brands of a HEIF file holding HEVC-coded images; ``mif1``/``msf1`` are the generic HEIF
# brands phones also write as the major brand. As a *compatible* brand ``mif1`` alone also fits
# AVIF, so a HEVC brand is required there.
HEVC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
HEIC_MAJOR_BRANDS = HEVC_BRANDS | {b"mif1", b"msf1"}
_MAX_TOP_LEVEL_BOXES = 64
_PIL_NAMES = {"JPEG": "a JPEG image", "PNG": "a PNG image", "WEBP": "a WebP image"}


class PhotoMismatch(Exception):
    """The bytes are not an image of the declared type; ``found`` says what they look like."""

    def __init__(self, declared: str, found: str, reason: str) -> None:
        super().__init__(f"declared {declared}, but the bytes are {found}: {reason}")
        self.declared = declared
        self.found = found
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PhotoFacts:
    """What a checked photo turned out to be."""

    content_type: str
    width: int | None
    height: int | None


def check_photo(data: bytes, declared: str) -> PhotoFacts:
    """Return the facts of a photo whose bytes are the declared type, else raise PhotoMismatch."""
    if declared == HEIC_TYPE:
        return _check_heic(data)
    expected = DECODED_TYPES.get(declared)
    if expected is None:
        raise PhotoMismatch(declared, describe(data), "this type of photo is not accepted")
    return _decode(data, declared, expected)


def is_embeddable(data: bytes) -> bool:
    """Whether the act renderer can draw these bytes (a JPEG, PNG or WebP that decodes).

    JPEGs are decoded at a reduced scale (as the renderer's thumbnail needs): every byte of the
    stream is still read, so a damaged file fails, at a fraction of a full decode's cost.
    """
    found = _pillow_format(data)
    if found is None:
        return False
    content_type = next(t for t, name in DECODED_TYPES.items() if name == found)
    try:
        _decode(data, content_type, found, draft=True)
    except PhotoMismatch:
        return False
    return True


def describe(data: bytes) -> str:
    """A short description of what some bytes look like, for an error message."""
    if not data:
        return "empty"
    if data.startswith(b"\xff\xd8\xff"):
        return "a JPEG image"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "a PNG image"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image"
    if data[4:8] == b"ftyp":
        brand = data[8:12].decode("ascii", "replace")
        return f"an ISO-BMFF file (brand {brand!r})"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "a GIF image"
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data[:2] in (b"II", b"MM") and data[2:4] in (b"*\x00", b"\x00*"):
        return "a TIFF image"
    sample = data[:512]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the sample's end is still text.
        text = sample[:-3].decode("utf-8", "ignore") if len(sample) > 3 else ""
    if text and all(ch.isprintable() or ch in "\r\n\t" for ch in text):
        return "text"
    return "unrecognised binary data"


def _pillow_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data), formats=list(DECODED_TYPES.values())) as probe:
            return probe.format
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


# Long side the act renderer scales photos to (reports.assets.THUMBNAIL_MAX_SIDE).
_DRAFT_SIDE = 1200


def _decode(data: bytes, declared: str, expected: str, *, draft: bool = False) -> PhotoFacts:
    # No warnings filter here (it is process-wide and photos are checked in threads): the
    # explicit pixel bound below refuses bombs long before Pillow's own warning level matters.
    try:
        with Image.open(io.BytesIO(data), formats=list(DECODED_TYPES.values())) as probe:
            found = probe.format or "unknown"
            width, height = probe.size
            if found != expected:
                raise PhotoMismatch(declared, _PIL_NAMES.get(found, found), "wrong type")
            # Checked before anything is decoded: only the header has been read so far.
            if width * height > MAX_PHOTO_PIXELS:
                raise PhotoMismatch(
                    declared,
                    f"an image of {width}x{height} pixels",
                    f"more than {MAX_PHOTO_PIXELS // 1_000_000} megapixels",
                )
            probe.verify()
        # verify() leaves the image unusable; decoding every pixel needs a fresh open.
        with Image.open(io.BytesIO(data), formats=[expected]) as image:
            if draft and expected == "JPEG":
                image.draft("RGB", (_DRAFT_SIDE, _DRAFT_SIDE))
            image.load()
    except PhotoMismatch:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoMismatch(declared, "an oversized image", "too many pixels") from exc
    except UnidentifiedImageError as exc:
        raise PhotoMismatch(declared, describe(data), "not a decodable image") from exc
    except (OSError, ValueError, SyntaxError, struct.error, EOFError) as exc:
        # Pillow reports truncated or corrupt data as OSError or SyntaxError.
        name = _PIL_NAMES.get(expected, expected).replace("a ", "a damaged ", 1)
        raise PhotoMismatch(declared, name, str(exc)[:200] or "cannot be decoded") from exc
    return PhotoFacts(declared, width, height)


def _check_heic(data: bytes) -> PhotoFacts:
    found = describe(data)
    boxes = list(_top_level_boxes(data))
    if not boxes or boxes[0][0] != b"ftyp":
        raise PhotoMismatch(HEIC_TYPE, found, "no ISO-BMFF ftyp box at the start")
    _, start, end = boxes[0]
    if end - start < 8:
        raise PhotoMismatch(HEIC_TYPE, found, "the ftyp box is too short")
    major = data[start : start + 4]
    compatible = {data[i : i + 4] for i in range(start + 8, end - 3, 4)}
    if major not in HEIC_MAJOR_BRANDS and not compatible & HEVC_BRANDS:
        raise PhotoMismatch(HEIC_TYPE, found, "no HEIC brand in the ftyp box")
    if not any(kind == b"meta" for kind, _, _ in boxes):
        raise PhotoMismatch(HEIC_TYPE, found, "no meta box: the container holds no image")
    return PhotoFacts(HEIC_TYPE, None, None)


def _top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each top-level box; stops at the first bad one."""
    boxes: list[tuple[bytes, int, int]] = []
    offset = 0
    while offset + 8 <= len(data) and len(boxes) < _MAX_TOP_LEVEL_BOXES:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > len(data):
                break
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = len(data) - offset  # the box runs to the end of the file
        if size < header or offset + size > len(data) or not kind.isalnum():
            break
        boxes.append((kind, offset + header, offset + size))
        offset += size
    return boxes
