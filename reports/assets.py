"""Checking and preparing the image assets an act references (photos, signature images)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from reports.errors import AssetHashMismatch, AssetMissing, AssetNotImage, AssetTooLarge

MAX_ASSET_BYTES = 15 * 1024 * 1024
# A small file can still decode to gigabytes of pixels (a "decompression bomb").
MAX_IMAGE_PIXELS = 60_000_000
# Long side of an embedded thumbnail: ~400 dpi in a 60 mm cell, and keeps acts a few MB at most.
THUMBNAIL_MAX_SIDE = 1200
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
_JPEG_QUALITY = 85


@dataclass(frozen=True)
class PreparedImage:
    """Image bytes ready for reportlab (JPEG or PNG) and their pixel size."""

    data: bytes
    width: int
    height: int


def prepare_image(
    sha256: str,
    assets: Mapping[str, bytes],
    *,
    used_by: str,
    max_bytes: int = MAX_ASSET_BYTES,
    keep_alpha: bool = False,
) -> PreparedImage:
    """Fetch `sha256` from `assets`, check size, hash and format, and shrink it for embedding."""
    data = assets.get(sha256)
    if data is None:
        raise AssetMissing(
            f"{used_by}: image {sha256} was not supplied in assets", sha256=sha256, used_by=used_by
        )
    if len(data) > max_bytes:
        raise AssetTooLarge(
            f"{used_by}: image {sha256} is {_mib(len(data))}, over the {_mib(max_bytes)} limit",
            sha256=sha256,
            used_by=used_by,
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise AssetHashMismatch(
            f"{used_by}: bytes supplied for {sha256} hash to {actual}",
            sha256=sha256,
            used_by=used_by,
        )
    image = _open_image(data, sha256=sha256, used_by=used_by)
    return _fit_for_pdf(data, image, keep_alpha=keep_alpha)


def _open_image(data: bytes, *, sha256: str, used_by: str) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise AssetTooLarge(
            f"{used_by}: image {sha256} has too many pixels", sha256=sha256, used_by=used_by
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise AssetNotImage(
            f"{used_by}: asset {sha256} is not an image (JPEG, PNG or WebP expected)",
            sha256=sha256,
            used_by=used_by,
        ) from exc
    if image.format not in ACCEPTED_FORMATS:
        raise AssetNotImage(
            f"{used_by}: asset {sha256} is a {image.format} image; JPEG, PNG or WebP expected",
            sha256=sha256,
            used_by=used_by,
        )
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise AssetTooLarge(
            f"{used_by}: image {sha256} is {width}x{height} pixels, over the "
            f"{MAX_IMAGE_PIXELS // 1_000_000} megapixel limit",
            sha256=sha256,
            used_by=used_by,
        )
    try:
        image.load()  # decode now, so a truncated file fails here and not inside reportlab
    except (OSError, ValueError, SyntaxError) as exc:
        raise AssetNotImage(
            f"{used_by}: image {sha256} is damaged and cannot be decoded",
            sha256=sha256,
            used_by=used_by,
        ) from exc
    return image


def _fit_for_pdf(original: bytes, image: Image.Image, *, keep_alpha: bool) -> PreparedImage:
    # Phones store portrait photos sideways plus an EXIF tag; PDF viewers ignore the tag.
    rotated = _has_orientation(image)
    upright = ImageOps.exif_transpose(image) if rotated else image
    small = max(upright.size) <= THUMBNAIL_MAX_SIDE
    # A plain, upright, small JPEG goes in as is: reportlab embeds JPEG bytes without decoding.
    if image.format == "JPEG" and small and not rotated and image.mode in ("RGB", "L"):
        return PreparedImage(original, image.width, image.height)
    if not small:
        upright.thumbnail((THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    if keep_alpha and _has_alpha(upright):
        upright.convert("RGBA").save(out, format="PNG", optimize=False)
    else:
        _flatten(upright).save(out, format="JPEG", quality=_JPEG_QUALITY, optimize=False)
    return PreparedImage(out.getvalue(), upright.width, upright.height)


def _has_orientation(image: Image.Image) -> bool:
    orientation = image.getexif().get(0x0112)  # EXIF Orientation
    return orientation not in (None, 1)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _flatten(image: Image.Image) -> Image.Image:
    # Photos go in as JPEG; transparent parts become white paper, not black.
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB") if image.mode != "RGB" else image


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
