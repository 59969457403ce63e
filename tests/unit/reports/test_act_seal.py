"""PAdES seal: a sealed act verifies; any change after sealing is detected."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import cache

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12
from pypdf import PdfWriter
from pypdf.annotations import FreeText

from reports import (
    SealError,
    SealStatus,
    make_dev_certificate,
    pkcs12_certificate,
    render_act,
    seal_pdf,
    verify_seal,
)
from reports.seal import async_seal_pdf, async_verify_seal

from .builders import build_snapshot


@cache
def _credentials() -> tuple[bytes, bytes, bytes]:
    bundle, passphrase = make_dev_certificate("naryad test seal")
    return bundle, passphrase, pkcs12_certificate(bundle, passphrase)


@cache
def _sealed() -> tuple[bytes, bytes]:
    bundle, passphrase, _ = _credentials()
    pdf = render_act(build_snapshot())
    return pdf, seal_pdf(pdf, bundle, passphrase, reason="Act of completed works")


def test_dev_certificate_is_a_passphrase_protected_pkcs12() -> None:
    bundle, passphrase, _ = _credentials()

    key, certificate, _chain = pkcs12.load_key_and_certificates(bundle, passphrase)
    assert key is not None
    assert certificate is not None
    assert "naryad test seal" in certificate.subject.rfc4514_string()
    with pytest.raises(ValueError, match="Invalid password"):
        pkcs12.load_key_and_certificates(bundle, b"wrong")


def test_sealed_act_verifies_as_intact_with_its_signer() -> None:
    original, sealed = _sealed()
    _, _, certificate = _credentials()

    report = verify_seal(sealed, [certificate])

    assert report.status is SealStatus.INTACT
    assert report.ok
    assert report.signer == "naryad test seal"
    assert report.trusted
    assert report.signed_at is not None
    # The seal is an incremental update: the rendered act is untouched inside it.
    assert sealed.startswith(original)


def test_byte_changed_inside_the_sealed_document_is_detected() -> None:
    original, sealed = _sealed()
    _, _, certificate = _credentials()
    tampered = bytearray(sealed)
    position = original.index(b"stream", len(original) // 2) + 40
    tampered[position] ^= 0x01

    report = verify_seal(bytes(tampered), [certificate])

    assert report.status is SealStatus.MODIFIED
    assert not report.ok


def _append_update(sealed: bytes, edit: Callable[[PdfWriter], object]) -> bytes:
    writer = PdfWriter(io.BytesIO(sealed), incremental=True)
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(sealed)
    return out.getvalue()


def test_visible_edit_appended_after_sealing_is_detected() -> None:
    _, sealed = _sealed()
    _, _, certificate = _credentials()
    note = FreeText(text="Оплачено наличными", rect=(50, 550, 250, 600))
    edited = _append_update(sealed, lambda writer: writer.add_annotation(0, note))

    report = verify_seal(edited, [certificate])

    assert report.status is SealStatus.MODIFIED
    assert "changed after sealing" in report.detail


def test_added_page_after_sealing_is_detected() -> None:
    _, sealed = _sealed()
    _, _, certificate = _credentials()

    report = verify_seal(_append_update(sealed, PdfWriter.add_blank_page), [certificate])

    assert report.status is SealStatus.MODIFIED


def test_metadata_only_update_keeps_the_seal_but_says_so() -> None:
    _, sealed = _sealed()
    _, _, certificate = _credentials()
    edited = _append_update(sealed, lambda writer: writer.add_metadata({"/Subject": "x"}))

    report = verify_seal(edited, [certificate])

    # pyHanko's PAdES policy allows non-visible updates; the report must not claim "unchanged".
    assert report.status is SealStatus.INTACT
    assert "later updates" in report.detail


def test_seal_by_an_untrusted_certificate_is_invalid() -> None:
    _, sealed = _sealed()
    stranger_bundle, stranger_passphrase = make_dev_certificate("someone else")

    report = verify_seal(sealed, [pkcs12_certificate(stranger_bundle, stranger_passphrase)])

    assert report.status is SealStatus.INVALID
    assert not report.trusted
    assert "not trusted" in report.detail


def test_unsealed_and_unreadable_documents() -> None:
    original, _ = _sealed()
    _, _, certificate = _credentials()

    assert verify_seal(original, [certificate]).status is SealStatus.UNSEALED
    assert verify_seal(b"not a pdf", [certificate]).status is SealStatus.INVALID


def test_wrong_passphrase_or_bad_pdf_raise_seal_error() -> None:
    original, _ = _sealed()
    bundle, passphrase, _ = _credentials()

    with pytest.raises(SealError, match="PKCS#12"):
        seal_pdf(original, bundle, b"wrong passphrase")
    with pytest.raises(SealError, match="cannot read the PDF"):
        seal_pdf(b"not a pdf", bundle, passphrase)


async def test_async_variants_work_inside_a_running_event_loop() -> None:
    original, _ = _sealed()
    bundle, passphrase, certificate = _credentials()

    sealed = await async_seal_pdf(original, bundle, passphrase)
    report = await async_verify_seal(sealed, [certificate])

    assert report.status is SealStatus.INTACT
