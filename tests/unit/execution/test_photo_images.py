"""The photo check: the bytes must be an image of the declared type (pure, no store)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from service.execution.images import (
    MAX_PHOTO_PIXELS,
    PhotoMismatch,
    check_photo,
    describe,
    is_embeddable,
)
from tests import photo_samples

ROOT = Path(__file__).resolve().parents[3]


def peak_kib() -> int:
    """This process's peak resident memory (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


@pytest.mark.parametrize(
    ("declared", "data"),
    [
        ("image/jpeg", photo_samples.jpeg()),
        ("image/png", photo_samples.png()),
        ("image/webp", photo_samples.webp()),
        ("image/heic", photo_samples.heif()),
        ("image/heic", photo_samples.heif(b"mif1", (b"mif1", b"heic"))),
    ],
)
def test_real_photos_pass(declared: str, data: bytes) -> None:
    facts = check_photo(data, declared)
    assert facts.content_type == declared
    if declared != "image/heic":
        assert (facts.width, facts.height) == (64, 48)


def test_text_declared_as_jpeg_is_refused_and_named() -> None:
    with pytest.raises(PhotoMismatch) as caught:
        check_photo(photo_samples.text(), "image/jpeg")
    assert caught.value.declared == "image/jpeg"
    assert caught.value.found == "text"


@pytest.mark.parametrize(
    ("declared", "data", "found"),
    [
        ("image/jpeg", photo_samples.png(), "a PNG image"),
        ("image/png", photo_samples.jpeg(), "a JPEG image"),
        ("image/webp", photo_samples.jpeg(), "a JPEG image"),
        ("image/jpeg", photo_samples.webp(), "a WebP image"),
        ("image/heic", photo_samples.jpeg(), "a JPEG image"),
    ],
)
def test_another_type_is_refused(declared: str, data: bytes, found: str) -> None:
    with pytest.raises(PhotoMismatch) as caught:
        check_photo(data, declared)
    assert caught.value.found == found


def test_truncated_jpeg_is_refused() -> None:
    data = photo_samples.truncated_jpeg()
    assert data.startswith(b"\xff\xd8\xff")  # the header alone would have passed before
    with pytest.raises(PhotoMismatch) as caught:
        check_photo(data, "image/jpeg")
    assert caught.value.found == "a damaged JPEG image"
    assert not is_embeddable(data)


@pytest.mark.parametrize(
    "data",
    [
        photo_samples.heif(b"avif", (b"mif1", b"miaf", b"avif")),  # AVIF is not HEIC
        photo_samples.heif()[:40],  # ftyp only: no image in it
        b"\x00\x00\x00\x08ftyp",  # an ftyp box too short to carry a brand
        photo_samples.text(),
        b"",
    ],
)
def test_not_a_heic_container_is_refused(data: bytes) -> None:
    with pytest.raises(PhotoMismatch):
        check_photo(data, "image/heic")


def test_unknown_declared_type_is_refused() -> None:
    with pytest.raises(PhotoMismatch):
        check_photo(photo_samples.jpeg(), "image/gif")


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = photo_samples.png_bomb()
    assert len(bomb) < 200_000
    assert MAX_PHOTO_PIXELS < 10_000 * 8_000
    started = time.perf_counter()
    with pytest.raises(PhotoMismatch) as caught:
        check_photo(bomb, "image/png")
    assert "10000x8000" in caught.value.found
    assert time.perf_counter() - started < 1.0
    assert not is_embeddable(bomb)


def test_decompression_bomb_check_uses_little_memory(tmp_path: Path) -> None:
    # Measured in a fresh process: the peak RSS of this test process is whatever earlier tests
    # reached, so it could not show an 80 MB decode. (getrusage's ru_maxrss is no good either:
    # a child starts with its parent's peak; VmHWM belongs to the new process image.)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(photo_samples.png_bomb())
    script = textwrap.dedent(
        f"""
        from service.execution.images import PhotoMismatch, check_photo
        from tests.unit.execution.test_photo_images import peak_kib
        data = open({str(bomb)!r}, "rb").read()
        before = peak_kib()
        try:
            check_photo(data, "image/png")
        except PhotoMismatch:
            pass
        else:
            raise SystemExit("not refused")
        print(peak_kib() - before)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    grown_kib = int(done.stdout.strip())
    assert grown_kib < 20 * 1024, f"peak memory grew by {grown_kib} KiB"


def test_the_same_bomb_decoded_would_cost_80_mb(tmp_path: Path) -> None:
    # The memory test above can only fail if decoding this file is expensive: prove it is.
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(photo_samples.png_bomb())
    script = textwrap.dedent(
        f"""
        from PIL import Image
        from tests.unit.execution.test_photo_images import peak_kib
        Image.MAX_IMAGE_PIXELS = None
        before = peak_kib()
        Image.open({str(bomb)!r}).load()
        print(peak_kib() - before)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert int(done.stdout.strip()) > 60 * 1024


@pytest.mark.parametrize(
    ("data", "described"),
    [
        (photo_samples.jpeg(), "a JPEG image"),
        (photo_samples.png(), "a PNG image"),
        (photo_samples.webp(), "a WebP image"),
        (photo_samples.heif(), "an ISO-BMFF file (brand 'heic')"),
        (b"GIF89a" + bytes(20), "a GIF image"),
        (b"%PDF-1.7\n", "a PDF document"),
        (photo_samples.text(), "text"),
        (bytes(range(256)), "unrecognised binary data"),
        (b"", "empty"),
    ],
)
def test_describe(data: bytes, described: str) -> None:
    assert describe(data) == described


def test_embeddable_photos() -> None:
    assert is_embeddable(photo_samples.jpeg())
    assert is_embeddable(photo_samples.png())
    assert is_embeddable(photo_samples.webp())
    assert not is_embeddable(photo_samples.heif())
    assert not is_embeddable(photo_samples.text())


def test_photo_count_text_in_each_language() -> None:
    from service.execution.photos import photo_count_text

    assert photo_count_text(3, 1, 0, "ru") == (
        "сделано фото: 3; 1 в формате HEIC не встроены в акт и хранятся в системе"
    )
    assert photo_count_text(3, 1, 0, "en") == (
        "3 photos taken; 1 HEIC photos are not embedded in the act and are kept in storage"
    )
    assert photo_count_text(32, 0, 2, "kk") == (
        "түсірілген фото: 32; 30-дан асқан 2 фото актіге енгізілмеген, жүйеде сақталады"
    )
