"""Image preparation: pass-through, downscaling, EXIF rotation, transparency."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from reports import render_act
from reports.assets import THUMBNAIL_MAX_SIDE, prepare_image
from reports.samples import SAMPLE_ACT

from .builders import build_snapshot, jpeg, load_sample, sha256


def _prepare(data: bytes, *, keep_alpha: bool = False) -> tuple[Image.Image, bytes]:
    prepared = prepare_image(sha256(data), {sha256(data): data}, used_by="t", keep_alpha=keep_alpha)
    image = Image.open(io.BytesIO(prepared.data))
    assert (prepared.width, prepared.height) == image.size
    return image, prepared.data


def test_small_upright_jpeg_is_embedded_unchanged() -> None:
    data = jpeg(1)

    _, embedded = _prepare(data)

    assert embedded == data


def test_large_photo_is_downscaled_keeping_its_aspect() -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (90, 120, 150)).save(out, format="JPEG")

    image, _ = _prepare(out.getvalue())

    assert image.size == (THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE * 3 // 4)


def test_phone_photo_stored_sideways_is_turned_upright() -> None:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as phones write portrait shots
    Image.new("RGB", (400, 300), "white").save(out, format="JPEG", exif=exif.tobytes())

    image, _ = _prepare(out.getvalue())

    assert image.size == (300, 400)


def test_transparent_png_photo_is_flattened_on_white_but_signature_keeps_alpha() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 20), (0, 0, 0, 0)).save(out, format="PNG")

    photo, _ = _prepare(out.getvalue())
    signature, _ = _prepare(out.getvalue(), keep_alpha=True)

    assert photo.format == "JPEG"
    assert photo.getpixel((5, 5)) == (255, 255, 255)
    assert signature.format == "PNG"
    assert signature.mode == "RGBA"


def test_renders_are_independent_of_what_was_rendered_before() -> None:
    snapshot, signatures, assets = load_sample()
    first = render_act(snapshot, signatures=signatures, assets=assets)
    render_act(build_snapshot(language="kk"))

    assert render_act(snapshot, signatures=signatures, assets=assets) == first


def test_renders_in_parallel_threads_match_serial_ones() -> None:
    # The service renders off the event loop in worker threads.
    jobs = [load_sample(), load_sample("act_sample_kk.json")]

    def render(index: int) -> bytes:
        snapshot, signatures, assets = jobs[index % 2]
        return render_act(snapshot, signatures=signatures, assets=assets)

    expected = [render(0), render(1)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render, range(8)))

    assert all(result == expected[index % 2] for index, result in enumerate(results))


def test_another_process_with_another_hash_seed_renders_the_same_bytes(tmp_path: Path) -> None:
    snapshot, signatures, assets = load_sample()
    here = render_act(snapshot, signatures=signatures, assets=assets)
    output = tmp_path / "act.pdf"
    root = Path(__file__).resolve().parents[3]
    script = (
        "from reports.cli import acts_group; "
        f"acts_group(['render', {str(SAMPLE_ACT)!r}, '-o', {str(output)!r}])"
    )

    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
    )

    assert output.read_bytes() == here
