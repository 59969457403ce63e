"""Pure helpers of act verification: initials, the public view, and what a PDF claims to be."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from service.acts import schemas
from service.common.i18n import LANGUAGES, Language
from service.db.models import Act

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PUBLIC_ID_PATTERN = r"^[A-Za-z0-9_-]{16,32}$"

_PUBLIC_ID = re.compile(PUBLIC_ID_PATTERN)
# What reports.render_act writes: Info /Subject (sha256:<snapshot hash>) and the trailer
# /ID [<first half of the snapshot hash><instance id>]. Both survive most re-saves.
_SUBJECT = re.compile(rb"/Subject\s*\(sha256:([0-9a-f]{64})\)")
_TRAILER_ID = re.compile(rb"/ID\s*\[\s*<([0-9a-fA-F]{32})>")
# The header may follow a few bytes of junk, as PDF readers tolerate.
_HEADER_WINDOW = 1024
_MAX_CLAIMS = 8


class NotAPdf(ValueError):
    """The bytes are not a PDF document."""


def initials(name: str, limit: int = 3) -> str:
    """«Нұрланова Әлия» -> «Н. Ә.»: the first letter of each word, at most ``limit``."""
    letters: list[str] = []
    for word in name.split():
        letter = next((ch for ch in word if ch.isalpha()), None)
        if letter is not None:
            letters.append(f"{letter.upper()}.")
        if len(letters) == limit:
            break
    return " ".join(letters)


def is_public_id(value: str) -> bool:
    """Whether a string could be a public id (anything else is answered 404 without a query)."""
    return bool(_PUBLIC_ID.fullmatch(value))


def verify_url(base_url: str, public_id: str) -> str:
    """The public verification page of an act (printed as the QR code)."""
    return f"{base_url.rstrip('/')}/verify/acts/{public_id}"


def public_view(
    act: Act,
    base_url: str,
    refused_at: datetime | None = None,
    work_type: str | None = None,
) -> schemas.ActVerification:
    """The public, PII-free view of an act."""
    return schemas.ActVerification(
        public_id=act.public_id,
        kind=cast("schemas.ActKind", act.kind),
        number=act.number,
        act_date=act.act_date,
        status=cast("schemas.ActStatus", act.status),
        issuer=schemas.PublicIssuer(
            legal_name=act.issuer_name, tax_id=act.issuer_tax_id, tax_id_kind=act.issuer_tax_id_kind
        ),
        customer_initials=act.customer_initials,
        technician_initials=act.technician_initials,
        snapshot_sha256=act.snapshot_sha256,
        pdf_sha256=act.pdf_sha256,
        sealed_pdf_sha256=act.sealed_pdf_sha256,
        signed_at=act.signed_at,
        sealed_at=act.sealed_at,
        audit_hash=act.audit_hash,
        verify_url=verify_url(base_url, act.public_id),
        refused_at=refused_at if act.status == "draft" else None,
        work_type=work_type,
    )


def choose_language(requested: str | None, accept_language: str | None, default: str) -> Language:
    """``?lang=`` first, then the best Accept-Language match, then the act's language."""
    for code in LANGUAGES:
        if requested == code:
            return code
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, index, primary))
    if ranked:
        best = min(ranked)[2]
        return next(code for code in LANGUAGES if code == best)
    return next((code for code in LANGUAGES if code == default), "ru")


@dataclass(frozen=True, slots=True)
class PdfClaims:
    """The uploaded file's digest and the snapshot hashes it claims to carry."""

    sha256: str
    size: int
    snapshot_sha256: tuple[str, ...]
    id_prefixes: tuple[str, ...]


def inspect_pdf(data: bytes) -> PdfClaims:
    """Hash an uploaded PDF and read which act it claims to be; NotAPdf for anything else."""
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        raise NotAPdf("the file is not a PDF document")
    # Later incremental updates come last; the last claim is what a reader would show.
    subjects = _unique(m.group(1).decode() for m in _SUBJECT.finditer(data))
    prefixes = _unique(m.group(1).decode().lower() for m in _TRAILER_ID.finditer(data))
    return PdfClaims(
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        snapshot_sha256=subjects,
        id_prefixes=prefixes,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    # Last claims first, each once: linear, since a hostile upload may hold a million of them.
    return tuple(dict.fromkeys(reversed(list(values))))[:_MAX_CLAIMS]
