"""`acts` command group: render an act snapshot JSON file to PDF (mounted on `naryad`)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
import msgspec

from reports.errors import ReportError
from reports.render import render_act
from reports.samples import SAMPLE_ACT
from reports.snapshot import parse_signatures, parse_snapshot, snapshot_sha256

# Assets directories are read whole; this bounds what a mistyped path (say, $HOME) can load.
_MAX_ASSET_FILES = 200


@click.group("acts")
def acts_group() -> None:
    """Acts of completed works: render snapshots to PDF."""


_RENDER_HELP = f"""Render SNAPSHOT.json to a PDF act.

SNAPSHOT.json holds either a bare act snapshot (reports.ActSnapshot) or an envelope:

\b
  {{"snapshot": {{...}},        the act snapshot
   "signatures": [...],      optional: reports.Signature objects
   "assets_dir": "photos"}}   optional: image directory, relative to the JSON file

Every file in the assets directory is loaded and keyed by its SHA-256, so file names do
not matter. The PDF is byte-for-byte reproducible for the same input.

Sample (Russian; _kk and _en variants next to it): {SAMPLE_ACT}
"""


@acts_group.command("render", help=_RENDER_HELP)
@click.argument(
    "snapshot_file",
    metavar="SNAPSHOT.json",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="Where to write the PDF.",
)
@click.option(
    "--assets-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of images (photos, signature PNGs); overrides assets_dir in the file.",
)
@click.option(
    "--font-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory holding DejaVuSans.ttf and DejaVuSans-Bold.ttf (default: system fonts).",
)
def render_command(
    snapshot_file: Path, output: Path, assets_dir: Path | None, font_dir: Path | None
) -> None:
    """Render SNAPSHOT.json to a PDF act."""
    try:
        envelope = msgspec.json.decode(snapshot_file.read_bytes())
    except msgspec.DecodeError as exc:
        raise click.ClickException(f"{snapshot_file}: not valid JSON ({exc})") from exc
    is_envelope = isinstance(envelope, dict) and "snapshot" in envelope
    raw_snapshot: Any = envelope["snapshot"] if is_envelope else envelope
    raw_signatures: Any = envelope.get("signatures", []) if is_envelope else []
    if assets_dir is None and is_envelope and envelope.get("assets_dir"):
        assets_dir = snapshot_file.parent / str(envelope["assets_dir"])
    try:
        snapshot = parse_snapshot(raw_snapshot)
        signatures = parse_signatures(raw_signatures)
        assets = _load_assets(assets_dir) if assets_dir is not None else {}
        pdf = render_act(
            snapshot,
            signatures=signatures,
            assets=assets,
            font_dir=font_dir,
        )
    except (ReportError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    output.write_bytes(pdf)
    click.echo(f"{output}: {len(pdf)} bytes, snapshot sha256 {snapshot_sha256(snapshot)}")


def _load_assets(directory: Path) -> dict[str, bytes]:
    files = sorted(path for path in directory.iterdir() if path.is_file())
    if len(files) > _MAX_ASSET_FILES:
        raise click.ClickException(
            f"{directory} holds {len(files)} files; at most {_MAX_ASSET_FILES} are loaded as assets"
        )
    assets: dict[str, bytes] = {}
    for path in files:
        if path.suffix.lower() in (".json", ".py", ".pyc"):
            continue
        data = path.read_bytes()
        assets[hashlib.sha256(data).hexdigest()] = data
    return assets
