"""`naryad acts dev-seal-cert`: a self-signed development seal (PKCS#12 + passphrase file)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reports import make_dev_certificate

DEFAULT_DIR = Path(".local/seal")
PKCS12_NAME = "dev-seal.p12"
PASSPHRASE_NAME = "dev-seal.pass"  # noqa: S105 - a file name, not a secret


def _write_private(path: Path, data: bytes) -> None:
    # Created owner-only from the start: the key must never be readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@click.command("dev-seal-cert")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="Where to write dev-seal.p12 and dev-seal.pass.",
)
@click.option("--name", default="naryad development seal", show_default=True, help="Common name.")
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3650))
@click.option("--force", is_flag=True, help="Replace an existing certificate.")
def seal_cert_command(directory: Path, name: str, days: int, force: bool) -> None:
    """Write a self-signed PKCS#12 seal for development (never for production acts).

    Prints the NARYAD_SEAL_* variables that make the service seal acts with it. An existing
    certificate is kept unless --force is given, so `make run` can call this every time.
    """
    pkcs12_path = directory / PKCS12_NAME
    passphrase_path = directory / PASSPHRASE_NAME
    if pkcs12_path.exists() and passphrase_path.exists() and not force:
        click.echo(f"{pkcs12_path}: exists, kept (use --force to replace)")
    else:
        directory.mkdir(parents=True, exist_ok=True)
        bundle, passphrase = make_dev_certificate(name, valid_days=days)
        _write_private(passphrase_path, passphrase + b"\n")
        _write_private(pkcs12_path, bundle)
        click.echo(f"{pkcs12_path}: self-signed seal {name!r}, valid {days} days")
    click.echo(f"NARYAD_SEAL_PKCS12={pkcs12_path.absolute()}")
    click.echo(f"NARYAD_SEAL_PASSPHRASE_FILE={passphrase_path.absolute()}")
