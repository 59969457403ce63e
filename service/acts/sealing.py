"""The issuer's seal: a PKCS#12 certificate that seals final act PDFs (PAdES, pyHanko)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
from cryptography import x509

from reports import SealReport, pkcs12_certificate, seal_pdf, verify_seal
from reports.errors import SealError
from service.settings import SealSettings


class SealConfigError(ValueError):
    """NARYAD_SEAL_* points at a missing or unreadable certificate or passphrase."""


@dataclass(frozen=True)
class Sealer:
    """A loaded certificate: seals PDFs and checks seals against itself."""

    pkcs12: bytes = field(repr=False)
    passphrase: bytes | None = field(repr=False)
    certificate_der: bytes = field(repr=False)
    signer_name: str

    async def seal(self, pdf: bytes, *, reason: str, location: str | None = None) -> bytes:
        """The PDF with an invisible certification seal (CPU work runs off the event loop)."""

        def work() -> bytes:
            return seal_pdf(pdf, self.pkcs12, self.passphrase, reason=reason, location=location)

        return await anyio.to_thread.run_sync(work)

    async def verify(self, pdf: bytes) -> SealReport:
        """Check the seals in a PDF with this certificate as the only trust root."""

        def work() -> SealReport:
            return verify_seal(pdf, [self.certificate_der])

        return await anyio.to_thread.run_sync(work)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise SealConfigError(f"cannot read {what} {path!r}: {exc.strerror}") from exc


def load_sealer(settings: SealSettings) -> Sealer | None:
    """The configured seal, or None when NARYAD_SEAL_PKCS12 is not set."""
    if settings.pkcs12_path is None:
        return None
    bundle = _read(settings.pkcs12_path, "NARYAD_SEAL_PKCS12")
    passphrase: bytes | None = None
    if settings.passphrase is not None:
        passphrase = settings.passphrase.encode("utf-8")
    elif settings.passphrase_file is not None:
        passphrase = _read(settings.passphrase_file, "NARYAD_SEAL_PASSPHRASE_FILE").strip()
    try:
        certificate_der = pkcs12_certificate(bundle, passphrase)
    except SealError as exc:
        raise SealConfigError(f"NARYAD_SEAL_PKCS12: {exc}") from exc
    certificate = x509.load_der_x509_certificate(certificate_der)
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    signer = str(names[0].value) if names else certificate.subject.rfc4514_string()
    return Sealer(
        pkcs12=bundle,
        passphrase=passphrase,
        certificate_der=certificate_der,
        signer_name=signer[:300],
    )
