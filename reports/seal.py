"""Optional PAdES seal over a rendered act (pyHanko), its verification, and a dev certificate.

Sealing embeds the signing time, so a sealed PDF is not byte-reproducible; the unsealed
PDF from `render_act` is. pyHanko's synchronous entry points call `asyncio.run`, so each
function here has an `async_` twin for callers that already run an event loop.
"""

from __future__ import annotations

import asyncio
import enum
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from reports.errors import SealError

SEAL_FIELD_NAME = "NaryadSeal"
TrustRoot = bytes | x509.Certificate


class SealStatus(enum.StrEnum):
    """Outcome of checking a sealed PDF."""

    INTACT = "intact"  # valid signature by a trusted signer, document unchanged since sealing
    MODIFIED = "modified"  # the signature is real, but the document changed after sealing
    INVALID = "invalid"  # signature broken, signer untrusted, or the file cannot be read
    UNSEALED = "unsealed"  # no signature in the document at all


@dataclass(frozen=True)
class SealReport:
    """What `verify_seal` found: status, who sealed it, when, and why not intact."""

    status: SealStatus
    signer: str | None = None
    signed_at: datetime | None = None
    trusted: bool = False
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True only for an intact seal by a trusted signer."""
        return self.status is SealStatus.INTACT


def seal_pdf(
    pdf: bytes,
    pkcs12: bytes,
    passphrase: bytes | None,
    *,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """Add an invisible PAdES (B-B) certification seal that forbids later changes."""
    return asyncio.run(async_seal_pdf(pdf, pkcs12, passphrase, reason=reason, location=location))


async def async_seal_pdf(
    pdf: bytes,
    pkcs12: bytes,
    passphrase: bytes | None,
    *,
    reason: str | None = None,
    location: str | None = None,
) -> bytes:
    """`seal_pdf` for callers inside an event loop."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    try:
        signer = signers.SimpleSigner.load_pkcs12_data(pkcs12, (), passphrase=passphrase)
    except ValueError as exc:
        raise SealError("cannot read the PKCS#12 key (wrong passphrase or damaged file)") from exc
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError) as exc:
        raise SealError(f"cannot read the PDF to seal: {exc}") from exc
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD_NAME,
        md_algorithm="sha256",
        subfilter=SigSeedSubFilter.PADES,
        # A certification signature with NO_CHANGES: any later edit shows up as "modified".
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        reason=reason,
        location=location,
    )
    output = await signers.PdfSigner(metadata, signer=signer).async_sign_pdf(writer)
    return bytes(output.getvalue())


def verify_seal(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SealReport:
    """Check every signature in `pdf` against `trust_roots` (DER/PEM bytes or certificates)."""
    return asyncio.run(async_verify_seal(pdf, trust_roots))


async def async_verify_seal(pdf: bytes, trust_roots: Iterable[TrustRoot]) -> SealReport:
    """`verify_seal` for callers inside an event loop."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    # No fetching: verification must work offline and must not call out to the network.
    context = ValidationContext(
        trust_roots=[
            cert for root in trust_roots for cert in load_certs_from_pemder_data(_der(root))
        ],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_regular_signatures)
        if not embedded:
            return SealReport(SealStatus.UNSEALED, detail="the document carries no signature")
        reports = [
            _judge(await async_validate_pdf_signature(sig, signer_validation_context=context))
            for sig in embedded
        ]
    except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        return SealReport(SealStatus.INVALID, detail=f"cannot validate: {exc}")
    # The worst signature decides; all-intact reports the first (the certification seal).
    order = (SealStatus.INVALID, SealStatus.MODIFIED, SealStatus.INTACT)
    return min(reports, key=lambda report: order.index(report.status))


def _judge(status: Any) -> SealReport:
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signer = _common_name(status.signing_cert)
    signed_at = status.signer_reported_dt
    trusted = bool(status.trusted)

    def report(outcome: SealStatus, detail: str) -> SealReport:
        return SealReport(
            outcome, signer=signer, signed_at=signed_at, trusted=trusted, detail=detail
        )

    if not status.intact:
        return report(SealStatus.MODIFIED, "the signed bytes were changed after sealing")
    if not status.valid:
        return report(SealStatus.INVALID, "the cryptographic signature does not verify")
    level = status.modification_level
    if status.docmdp_ok is False or (level is not None and level > ModificationLevel.LTA_UPDATES):
        return report(SealStatus.MODIFIED, f"the document was changed after sealing ({level})")
    if not trusted:
        return report(SealStatus.INVALID, "the signer's certificate is not trusted")
    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return report(SealStatus.INTACT, "seal valid; document unchanged since sealing")
    # PAdES lets validation data (DSS, timestamps) be appended later; pyHanko also files
    # document-info metadata edits there. None of that changes what a reader sees.
    return report(
        SealStatus.INTACT,
        "seal valid; later updates add only validation data or metadata, no visible change",
    )


def _common_name(certificate: Any) -> str | None:
    try:
        return str(certificate.subject.native["common_name"])
    except (KeyError, AttributeError):
        return str(certificate.subject.human_friendly) if certificate is not None else None


def _der(root: TrustRoot) -> bytes:
    if isinstance(root, x509.Certificate):
        return root.public_bytes(serialization.Encoding.DER)
    if root.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(root).public_bytes(serialization.Encoding.DER)
    return root


def make_dev_certificate(common_name: str, *, valid_days: int = 365) -> tuple[bytes, bytes]:
    """A self-signed EC P-256 certificate + key as (PKCS#12 bytes, random passphrase). Dev only."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME, "naryad development (not for production)"
            ),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # A little back-dating absorbs clock skew between the machine that seals and verifies.
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # "non-repudiation", which PDF signers are checked for
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    passphrase = secrets.token_urlsafe(24).encode("ascii")
    bundle = pkcs12.serialize_key_and_certificates(
        common_name.encode("utf-8"),
        key,
        certificate,
        None,
        serialization.BestAvailableEncryption(passphrase),
    )
    return bundle, passphrase


def pkcs12_certificate(pkcs12_bytes: bytes, passphrase: bytes | None) -> bytes:
    """The DER certificate inside a PKCS#12 file (to use as a trust root in `verify_seal`)."""
    try:
        _key, certificate, _chain = pkcs12.load_key_and_certificates(pkcs12_bytes, passphrase)
    except ValueError as exc:
        raise SealError("cannot read the PKCS#12 file (wrong passphrase or damaged)") from exc
    if certificate is None:
        raise SealError("the PKCS#12 file holds no certificate")
    return certificate.public_bytes(serialization.Encoding.DER)


def trust_roots_from_pem(pem: bytes) -> Sequence[bytes]:
    """Every certificate in a PEM bundle, as DER, for `verify_seal`."""
    return [
        certificate.public_bytes(serialization.Encoding.DER)
        for certificate in x509.load_pem_x509_certificates(pem)
    ]
