"""Answer letter to a customer's appeal -> deterministic PDF on the company's letterhead.

Seed 001 §5.8 and §6.1: printed on the company's letterhead, opening with the customer's name
and patronymic, the question, a concrete answer on the merits (for a complaint: whether it was
found justified, with reasons, and the corrective measures with their dates), the responsible
person's contacts. Every page carries the act's furniture: page x of y, the content hash and the
verification QR code.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from reports import i18n
from reports.fonts import load_fonts
from reports.layout import make_styles, markup, para, table_style
from reports.page import PageFurniture, PdfIdentity, build_pdf
from reports.sections import CONTENT_WIDTH
from reports.snapshot import Language

Decision = Literal["justified", "partly", "unjustified"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class LetterIssuer(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The letterhead."""

    legal_name: Line
    tax_id: Line
    address: Line
    phone: Line


class Responsible(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Who answers for the letter and how to reach them."""

    name: Line
    role: Line
    phone: Line
    email: Line | None = None


class LetterMeasure(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A corrective measure and its planned date."""

    description: Text
    due: date


class LetterSnapshot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything the letter shows; its canonical JSON's SHA-256 identifies the letter."""

    version: Literal[1]
    language: Language
    issuer: LetterIssuer
    letter_number: Line
    letter_date: date
    recorded_at: datetime
    appeal_number: Line
    appeal_registered: date
    addressee: Line
    salutation_name: Line
    question: Text
    merits: Text
    responsible: Responsible
    verify_url: Line
    decision: Decision | None = None
    decision_reasons: Text | None = None
    measures: tuple[LetterMeasure, ...] = ()
    # Read from the patronymic: Russian says «Уважаемая»/«Уважаемый»; None keeps «Уважаемый(ая)».
    salutation: Literal["female", "male"] | None = None
    # The territory's IANA zone: the letter's time is named on the customer's clock.
    time_zone: Line | None = None


_ENCODER = msgspec.json.Encoder(order="sorted")


def letter_sha256(snapshot: LetterSnapshot) -> str:
    """SHA-256 of the snapshot's canonical JSON."""
    return hashlib.sha256(_ENCODER.encode(snapshot)).hexdigest()


def render_letter(snapshot: LetterSnapshot, *, font_dir: str | Path | None = None) -> bytes:
    """Render the letter as PDF bytes; equal snapshots give byte-identical output."""
    snapshot = msgspec.json.decode(_ENCODER.encode(snapshot), type=LetterSnapshot)
    fonts = load_fonts(font_dir)
    fonts.check_all(msgspec.to_builtins(snapshot), "letter")
    styles = make_styles(fonts)
    lang = snapshot.language
    digest = letter_sha256(snapshot)

    def lab(key: str, **values: object) -> str:
        return i18n.label(f"letter.{key}", lang, **values)

    heading = lab("title", number=snapshot.appeal_number)
    story: list[Flowable] = [
        Paragraph(f"<b>{markup(snapshot.issuer.legal_name)}</b>", styles.issuer),
        para(
            f"{snapshot.issuer.address} · {snapshot.issuer.phone} · "
            f"{lab('tax_id')} {snapshot.issuer.tax_id}",
            styles.muted,
        ),
        Spacer(1, 6 * mm),
    ]
    head = Table(
        [
            [
                para(
                    "\n".join(
                        (
                            lab("outgoing", number=snapshot.letter_number),
                            i18n.format_long_date(snapshot.letter_date, lang),
                            _local_time(snapshot),
                        )
                    ),
                    styles.small,
                ),
                para(lab("to", name=snapshot.addressee), styles.right),
            ]
        ],
        colWidths=[CONTENT_WIDTH / 2, CONTENT_WIDTH / 2],
    )
    head.setStyle(table_style(fonts.regular, [("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [head, Spacer(1, 8 * mm), para(heading, styles.title), Spacer(1, 4 * mm)]
    dear = f"dear.{snapshot.salutation}" if snapshot.salutation else "dear"
    story += [para(lab(dear, name=snapshot.salutation_name), styles.body), Spacer(1, 2 * mm)]
    story.append(
        para(
            lab(
                "intro",
                number=snapshot.appeal_number,
                date=i18n.format_long_date(snapshot.appeal_registered, lang),
            ),
            styles.body,
        )
    )
    story += [Spacer(1, 3 * mm), para(lab("question"), styles.section)]
    story += [para(line, styles.body) for line in snapshot.question.splitlines() if line.strip()]
    if snapshot.decision is not None:
        story += [Spacer(1, 3 * mm), para(lab("decision"), styles.section)]
        story.append(
            Paragraph(f"<b>{markup(lab('decision.' + snapshot.decision))}</b>", styles.body)
        )
        if snapshot.decision_reasons:
            story += [
                para(line, styles.body)
                for line in snapshot.decision_reasons.splitlines()
                if line.strip()
            ]
    story += [Spacer(1, 3 * mm), para(lab("answer"), styles.section)]
    story += [para(line, styles.body) for line in snapshot.merits.splitlines() if line.strip()]
    if snapshot.measures:
        story += [Spacer(1, 3 * mm), para(lab("measures"), styles.section)]
        rows = [[para(lab("measure"), styles.head_cell), para(lab("due"), styles.head_cell)]]
        rows += [
            [
                para(m.description, styles.cell),
                para(i18n.format_long_date(m.due, lang), styles.cell),
            ]
            for m in snapshot.measures
        ]
        table = Table(rows, colWidths=[CONTENT_WIDTH * 0.7, CONTENT_WIDTH * 0.3], repeatRows=1)
        table.setStyle(
            table_style(
                fonts.regular,
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA3AD")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ],
            )
        )
        story.append(table)
    responsible = snapshot.responsible
    contacts = f"{responsible.phone}" + (f", {responsible.email}" if responsible.email else "")
    story += [
        Spacer(1, 8 * mm),
        para(lab("responsible"), styles.section),
        Paragraph(f"{markup(responsible.role)}: <b>{markup(responsible.name)}</b>", styles.body),
        para(lab("contacts", contacts=contacts), styles.body),
        Spacer(1, 4 * mm),
        para(lab("verify_note"), styles.muted),
    ]
    identity = PdfIdentity(
        act_date=snapshot.letter_date,
        recorded_at=snapshot.recorded_at,
        permanent_id=digest[:32],
        instance_id=digest[32:],
    )
    furniture = PageFurniture(
        fonts=fonts,
        language=lang,
        act_heading=heading,
        act_short=heading,
        issuer_name=snapshot.issuer.legal_name,
        document_sha256=digest,
        verify_url=snapshot.verify_url,
    )
    return build_pdf(
        story, furniture, identity, template_id="letter", keywords=snapshot.appeal_number
    )


def _local_time(snapshot: LetterSnapshot) -> str:
    """The letter's time where the customer is: "14:32, Asia/Almaty (UTC+05:00)"."""
    at = snapshot.recorded_at
    if snapshot.time_zone is not None:
        zone = ZoneInfo(snapshot.time_zone)
        at = at.astimezone(zone)
        where = i18n.format_zone(zone, at)
    else:
        where = i18n.format_utc_offset(at)
    return i18n.label("letter.local_time", snapshot.language, time=f"{at:%H:%M}", zone=where)
