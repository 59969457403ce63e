"""Rendering: content on every page, languages, images, determinism, fonts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader

from reports import (
    FontNotFound,
    GeoLocation,
    Signature,
    SignatureStrokes,
    render_act,
    snapshot_sha256,
)
from reports.fonts import load_fonts
from reports.i18n import label, label_keys

from .builders import (
    ACT_NUMBER,
    CUSTOMER_NAME,
    build_snapshot,
    contractor_image_signature,
    customer_strokes_signature,
    image_xobjects,
    jpeg,
    load_sample,
    page_texts,
    sha256,
    signature_png,
)

KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"


def _full_act() -> tuple[bytes, int]:
    """A long checklist, six photos and both signatures (one PNG, one strokes)."""
    photos = [jpeg(seed) for seed in range(6)]
    snapshot = build_snapshot(photos=photos, checklist_steps=45)
    png = signature_png()
    signatures = [contractor_image_signature(snapshot, png), customer_strokes_signature(snapshot)]
    assets = {sha256(data): data for data in [*photos, png]}
    return render_act(snapshot, signatures=signatures, assets=assets), len(photos)


def test_long_act_has_act_number_hash_and_page_x_of_y_on_every_page() -> None:
    pdf, _ = _full_act()
    snapshot_hash = snapshot_sha256(
        build_snapshot(photos=[jpeg(s) for s in range(6)], checklist_steps=45)
    )
    texts = page_texts(pdf)

    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert ACT_NUMBER in text
        assert snapshot_hash in text
        assert f"Стр. {number} из {len(texts)}" in text
        assert "https://naryad.example.kz/verify/acts/abc123" in text


def test_long_act_embeds_six_photos_plus_the_signature_image_and_draws_strokes() -> None:
    pdf, photo_count = _full_act()

    # Six photos and the technician's PNG; the customer's strokes are vector paths.
    assert len(image_xobjects(pdf)) == photo_count + 1
    last_page = PdfReader(io.BytesIO(pdf)).pages[-1].get_contents()
    assert last_page is not None
    assert re.search(rb"\.105882 \.164706 \.419608 RG", last_page.get_data())  # ink strokes


def test_checklist_table_repeats_its_header_on_the_next_page() -> None:
    pdf, _ = _full_act()
    texts = page_texts(pdf)
    pages_with_rows = [text for text in texts if "step_" in text]

    assert len(pages_with_rows) >= 2
    for text in pages_with_rows:
        assert "Этап" in text
        assert "Результат" in text


def test_every_page_carries_the_qr_code_form() -> None:
    pdf, _ = _full_act()
    reader = PdfReader(io.BytesIO(pdf))

    for page in reader.pages:
        xobjects = page["/Resources"]["/XObject"].get_object()
        forms = [x for x in xobjects.values() if x.get_object()["/Subtype"] == "/Form"]
        assert len(forms) == 1
        # A QR code is drawn as dozens of filled squares inside that form.
        assert forms[0].get_object().get_data().count(b" re") > 50


def test_russian_act_shows_kazakh_names_parties_and_signature_details() -> None:
    snapshot = build_snapshot()
    text = "\n".join(
        page_texts(render_act(snapshot, signatures=[customer_strokes_signature(snapshot)]))
    )

    assert CUSTOMER_NAME in text
    assert "Ғалымжан Өмірұлы Серікбаев" in text
    for heading in ("Акт выполненных работ", "Исполнитель", "Заказчик", "БИН 180940012345"):
        assert heading in text
    assert "«12» марта 2025 г." in text
    assert "43.233700, 76.957100 ±9 м" in text
    assert "18,5" in text  # decimal comma for Russian quantities


def test_kazakh_act_uses_kazakh_labels_and_every_kazakh_letter_survives() -> None:
    snapshot = build_snapshot(language="kk", kind="handover")
    data = msgspec.to_builtins(snapshot)
    data["customer_remarks"] = KAZAKH_LETTERS
    snapshot = msgspec.convert(data, type=type(snapshot))
    texts = page_texts(render_act(snapshot))
    text = "\n".join(texts)

    assert "тапсыру-қабылдау актісі" in text
    assert "Орындаушы" in text
    assert "Тапсырыс беруші" in text
    assert CUSTOMER_NAME in text
    assert KAZAKH_LETTERS in text
    assert f"{len(texts)} беттің 1-беті" in texts[0]


def test_english_act() -> None:
    text = "\n".join(page_texts(render_act(build_snapshot(language="en"))))

    assert "Act of completed works" in text
    assert "Contractor" in text
    assert "Customer" in text
    assert "12 March 2025" in text
    assert "18.5" in text


def test_same_input_gives_identical_bytes() -> None:
    first, _ = _full_act()
    second, _ = _full_act()

    assert first == second


def test_pdf_identity_comes_from_the_snapshot_not_the_clock() -> None:
    snapshot = build_snapshot()
    unsigned = render_act(snapshot)
    signed = render_act(snapshot, signatures=[customer_strokes_signature(snapshot)])
    reader = PdfReader(io.BytesIO(unsigned))

    assert reader.metadata is not None
    assert reader.metadata["/CreationDate"] == "D:20250312000000+05'00'"
    assert reader.metadata["/ModDate"] == "D:20250312000000+05'00'"
    permanent = snapshot_sha256(snapshot)[:32]
    assert re.search(rb"/ID\s*\[<" + permanent.encode() + rb">", unsigned)
    # Same content, different signatures: same permanent id, different instance id and bytes.
    assert re.search(rb"/ID\s*\[<" + permanent.encode() + rb">", signed)
    assert signed != unsigned


def test_fonts_are_embedded_dejavu_only() -> None:
    pdf = render_act(build_snapshot())
    reader = PdfReader(io.BytesIO(pdf))
    fonts = {
        font.get_object()["/BaseFont"]: font.get_object()
        for page in reader.pages
        for font in page["/Resources"]["/Font"].get_object().values()
    }

    assert fonts
    for base_font, font in fonts.items():
        assert "DejaVuSans" in base_font
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        assert "/FontFile2" in descendant["/FontDescriptor"].get_object()


def test_every_label_in_every_language_is_covered_by_the_font() -> None:
    fonts = load_fonts()

    for key in label_keys():
        for language in ("ru", "kk", "en"):
            text = label(
                key,
                language,
                page=1,
                pages=2,
                number="А-1",
                count=3,
                distance=35,
                accuracy=12,
                serial="S1",
                limit=30,
                # The answer letter's labels (reports/letter.py).
                name="Мария Петровна",
                date="5 декабря 2026 г.",
                contacts="+7 700 000 00 00",
                time="16:05",
                zone="Asia/Almaty (UTC+05:00)",
            )
            assert text
            fonts.check_text(f"label {key}/{language}", text)
    fonts.check_text("kazakh letters", KAZAKH_LETTERS)


def test_sample_acts_render_and_are_bound_to_their_signatures() -> None:
    for name in ("act_sample.json", "act_sample_kk.json", "act_sample_en.json"):
        snapshot, signatures, assets = load_sample(name)

        pdf = render_act(snapshot, signatures=signatures, assets=assets)

        assert all(
            signature.document_sha256 == snapshot_sha256(snapshot) for signature in signatures
        )
        assert len(image_xobjects(pdf)) == 7
        assert len(page_texts(pdf)) >= 2


def test_explicit_font_dir_is_used_and_a_missing_one_names_the_package(tmp_path: Path) -> None:
    system = load_fonts().directory
    assert render_act(build_snapshot(), font_dir=str(system)).startswith(b"%PDF")

    with pytest.raises(FontNotFound, match="fonts-dejavu-core") as caught:
        render_act(build_snapshot(), font_dir=str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_strokes_signature_with_a_single_dot_renders() -> None:
    snapshot = build_snapshot()
    dot = Signature(
        role="customer",
        signer_name=CUSTOMER_NAME,
        signed_at=snapshot.finished_at,
        document_sha256=snapshot_sha256(snapshot),
        location=GeoLocation(lat=0.0, lon=0.0, accuracy_m=1.0),
        strokes=SignatureStrokes(strokes=(((0.5, 0.5),),)),
    )

    assert render_act(snapshot, signatures=[dot]).startswith(b"%PDF")
