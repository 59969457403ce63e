"""Photo files for tests: real images made with Pillow, a HEIF container, and liars."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageDraw


def image(fmt: str, width: int = 64, height: int = 48) -> bytes:
    """A small real image in Pillow's format ``fmt`` (JPEG, PNG, WEBP)."""
    picture = Image.new("RGB", (width, height), (200, 120, 40))
    ImageDraw.Draw(picture).rectangle((4, 4, width // 2, height // 2), fill=(20, 60, 160))
    out = io.BytesIO()
    picture.save(out, format=fmt)
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    """A real JPEG."""
    return image("JPEG", width, height)


def png(width: int = 64, height: int = 48) -> bytes:
    """A real PNG."""
    return image("PNG", width, height)


def webp(width: int = 64, height: int = 48) -> bytes:
    """A real WebP."""
    return image("WEBP", width, height)


def truncated_jpeg() -> bytes:
    """A JPEG cut off mid-scan, as an interrupted upload leaves it: the header is perfect."""
    whole = jpeg(400, 300)
    return whole[: len(whole) * 2 // 3]


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def heif(major: bytes = b"heic", compatible: tuple[bytes, ...] = (b"mif1", b"heic")) -> bytes:
    """An ISO-BMFF container as iPhones write it: ftyp, a meta box, then the coded data."""
    ftyp = _box(b"ftyp", major + b"\x00\x00\x00\x00" + b"".join(compatible))
    handler = _box(b"hdlr", b"\x00" * 8 + b"pict" + b"\x00" * 12 + b"\x00")
    meta = _box(b"meta", b"\x00\x00\x00\x00" + handler)
    return ftyp + meta + _box(b"mdat", bytes(range(256)) * 8)


def text() -> bytes:
    """What a broken app uploads instead of a photo."""
    return "Здесь должна быть фотография счётчика.\nThis is not a photo.\n".encode() * 20


def png_bomb(width: int = 10_000, height: int = 8_000) -> bytes:
    """A valid PNG of width x height grey pixels that compresses to a few dozen kilobytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + pixels
    chunks = [compressor.compress(row) for _ in range(height)]
    idat = b"".join(chunks) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
