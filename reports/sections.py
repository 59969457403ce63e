"""The body of an act as platypus flowables: requisites, title, parties, sections, signatures."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
)

from reports import i18n
from reports.assets import PreparedImage
from reports.fonts import FontSet
from reports.i18n import label
from reports.layout import (
    GRID,
    Styles,
    blank_signature_box,
    fitted_image,
    grid_table_style,
    markup,
    para,
    strokes_drawing,
    table_style,
)
from reports.page import PAGE_MARGIN_LEFT, PAGE_MARGIN_RIGHT
from reports.snapshot import ActSnapshot, ChecklistEntry, EquipmentLine, Signature, SignerRole

CONTENT_WIDTH = A4[0] - PAGE_MARGIN_LEFT - PAGE_MARGIN_RIGHT
PHOTO_COLUMNS = 3
PHOTO_BOX_HEIGHT = 42 * mm
SIGNATURE_BOX = (62 * mm, 20 * mm)
SECTION_MIN_ROOM = 40 * mm
PARTY_LABEL_WIDTH = 54 * mm
# Contractor signature modes whose statement (a label of the same name) replaces the line.
STATEMENT_MODES = ("seal_statement", "contractor_statement")


@dataclass(frozen=True)
class ActContent:
    """A checked snapshot with its signatures, prepared images, fonts and styles."""

    snapshot: ActSnapshot
    document_sha256: str
    signatures: Mapping[SignerRole, Signature]
    photos: Sequence[PreparedImage]
    signature_images: Mapping[SignerRole, PreparedImage]
    fonts: FontSet
    styles: Styles

    # Version 2: whether every time of the act falls in one UTC offset of the site's zone, so
    # the zone is named once and the times need no offset of their own.
    one_offset: bool = field(default=False)

    def label(self, key: str, **values: object) -> str:
        """A label in the act's language."""
        return label(key, self.snapshot.language, **values)

    def when(self, value: datetime) -> str:
        """A date and time as the act prints it: on the site's clock from version 2 on."""
        zone = self.snapshot.zone
        if zone is None:
            return i18n.format_datetime(value, self.snapshot.language)
        return i18n.format_datetime(
            value.astimezone(zone), self.snapshot.language, with_offset=not self.one_offset
        )


Section = tuple[str, list[Flowable]]


def build_story(act: ActContent) -> list[Flowable]:
    """Every flowable of the act, top to bottom."""
    return list(_story(act))


def _story(act: ActContent) -> Iterator[Flowable]:
    yield from _requisites(act)
    yield from _title(act)
    yield _parties(act)
    # The handover act is about the equipment, so its table comes first.
    builders: tuple[Callable[[ActContent], Section | None], ...] = (
        (_equipment, _works) if act.snapshot.kind == "handover" else (_works, _equipment)
    ) + (_checklist, _photos)
    sections = [section for build in builders if (section := build(act)) is not None]
    for number, (heading, flowables) in enumerate(sections, start=1):
        # Start a section on a new page only when barely any room is left; a long table
        # then splits across pages with its header row repeated.
        yield CondPageBreak(SECTION_MIN_ROOM)
        yield Paragraph(f"{number}. {markup(heading)}", act.styles.section)
        yield from flowables
    yield from _closing(act)


def _requisites(act: ActContent) -> Iterator[Flowable]:
    issuer = act.snapshot.issuer
    styles = act.styles
    order = act.snapshot.work_order
    left = [
        para(issuer.legal_name, styles.issuer),
        para(
            f"{i18n.tax_id_label(issuer.tax_id_kind, act.snapshot.language)} {issuer.tax_id}",
            styles.small,
        ),
        para(f"{act.label('address')}: {issuer.address}", styles.small),
        para(f"{act.label('phone')}: {issuer.phone}", styles.small),
    ]
    right = [
        para(f"{act.label('work_order')} {act.label('number')} {order.number}", styles.small),
        para(i18n.work_type_name(order.type, act.snapshot.language), styles.muted),
    ]
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.68, CONTENT_WIDTH * 0.32])
    table.setStyle(
        table_style(
            act.fonts.regular,
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 * mm),
            ],
        )
    )
    yield table


def _title(act: ActContent) -> Iterator[Flowable]:
    snapshot = act.snapshot
    styles = act.styles
    yield para(i18n.title(snapshot.kind, snapshot.language), styles.title)
    yield Paragraph(
        f"<b>{markup(act.label('number'))} {markup(snapshot.act_number)}</b>",
        styles.subtitle,
    )
    row = Table(
        [
            [
                para(snapshot.place, styles.body),
                para(i18n.format_long_date(snapshot.act_date, snapshot.language), styles.right),
            ]
        ],
        colWidths=[CONTENT_WIDTH / 2, CONTENT_WIDTH / 2],
    )
    row.setStyle(
        table_style(
            act.fonts.regular,
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ],
        )
    )
    yield row


def _parties(act: ActContent) -> Flowable:
    snapshot = act.snapshot
    language = snapshot.language
    styles = act.styles
    issuer = snapshot.issuer
    tax = f"{i18n.tax_id_label(issuer.tax_id_kind, language)} {issuer.tax_id}"
    customer = snapshot.customer.name
    if snapshot.customer.phones:
        customer += f", {act.label('phone').lower()} {', '.join(snapshot.customer.phones)}"
    order = snapshot.work_order
    order_text = (
        f"{act.label('number')} {order.number}, {i18n.work_type_name(order.type, language)}"
    )
    rows: list[tuple[str, str]] = [
        (act.label("contractor"), f"{issuer.legal_name}, {tax}"),
        (
            act.label("technician"),
            f"{snapshot.technician.name}, {act.label('employee_no')} "
            f"{snapshot.technician.employee_no}",
        ),
        (act.label("customer"), customer),
        (act.label("acceptor"), snapshot.acceptor.name),
        (act.label("site"), snapshot.site.address),
        (act.label("work_order"), order_text),
    ]
    if order.requested_services:
        rows.append((act.label("requested_services"), "; ".join(order.requested_services)))
    if isinstance(order.description, str) and order.description:
        rows.append((act.label("description"), order.description))
    zone = snapshot.zone
    if zone is None:
        rows += [
            (
                act.label("agreed_window"),
                i18n.format_window(
                    snapshot.agreed_window.start, snapshot.agreed_window.end, language
                ),
            ),
            (act.label("arrived_at"), i18n.format_datetime(snapshot.arrived_at, language)),
            (act.label("finished_at"), i18n.format_datetime(snapshot.finished_at, language)),
        ]
    else:
        rows += [
            (act.label("agreed_window"), _local_window(act)),
            (act.label("arrived_at"), act.when(snapshot.arrived_at)),
            (act.label("finished_at"), act.when(snapshot.finished_at)),
        ]
        if act.one_offset:
            rows.append((act.label("time_zone"), i18n.format_zone(zone, snapshot.finished_at)))
    table = Table(
        [[para(name, styles.cell_bold), para(value, styles.cell)] for name, value in rows],
        colWidths=[PARTY_LABEL_WIDTH, CONTENT_WIDTH - PARTY_LABEL_WIDTH],
    )
    table.setStyle(
        table_style(
            act.fonts.regular,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 1.6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
            ],
        )
    )
    return table


def _local_window(act: ActContent) -> str:
    """The agreed window on the site's clock; the offset only when the act has several."""
    zone = act.snapshot.zone
    assert zone is not None
    start = act.snapshot.agreed_window.start.astimezone(zone)
    end = act.snapshot.agreed_window.end.astimezone(zone)
    if start.date() == end.date() and act.one_offset:
        language = act.snapshot.language
        day = start.strftime("%Y-%m-%d") if language == "en" else start.strftime("%d.%m.%Y")
        return f"{day} {start:%H:%M}–{end:%H:%M}"
    return f"{act.when(start)} – {act.when(end)}"


def _works(act: ActContent) -> Section:
    styles = act.styles
    header = [
        para(act.label("col.no"), styles.head_cell),
        para(act.label("col.description"), styles.head_cell),
    ]
    body = [
        [para(str(index), styles.cell), para(line, styles.cell)]
        for index, line in enumerate(act.snapshot.works_performed, start=1)
    ]
    if not body:
        body = [[para("—", styles.cell), para(act.label("none"), styles.cell)]]
    table = Table([header, *body], colWidths=[10 * mm, CONTENT_WIDTH - 10 * mm], repeatRows=1)
    table.setStyle(grid_table_style(act.fonts.regular))
    return act.label("section.works"), [table]


def _equipment(act: ActContent) -> Section:
    styles = act.styles
    language = act.snapshot.language
    widths = [8 * mm, 0, 30 * mm, 38 * mm, 15 * mm, 12 * mm]
    widths[1] = CONTENT_WIDTH - sum(widths)
    header = [
        para(act.label(key), styles.head_cell)
        for key in ("col.no", "col.item", "col.model", "col.serial", "col.quantity", "col.unit")
    ]
    body = [
        [
            para(str(index), styles.cell),
            _item_cell(act, line),
            para(line.model or "—", styles.cell),
            para(line.serial or "—", styles.cell),
            para(i18n.format_quantity(line.quantity, language), styles.cell_right),
            para(line.unit, styles.cell),
        ]
        for index, line in enumerate(act.snapshot.equipment, start=1)
    ]
    if not body:
        none = para(act.label("none"), styles.cell)
        body = [[para("—", styles.cell), none, "", "", "", ""]]
    table = Table([header, *body], colWidths=widths, repeatRows=1)
    style = grid_table_style(act.fonts.regular)
    if not act.snapshot.equipment:
        style.add("SPAN", (1, 1), (-1, 1))
    table.setStyle(style)
    return act.label("section.equipment"), [table]


def _item_cell(act: ActContent, line: EquipmentLine) -> Flowable:
    """The item's name; from version 2 on, with what was done to it (and the unit it replaced)."""
    if not isinstance(line.action, str):
        return para(line.name, act.styles.cell)
    action = act.label(f"action.{line.action}")
    if isinstance(line.replaced_serial, str) and line.replaced_serial:
        action += f", {act.label('replaced_serial', serial=line.replaced_serial)}"
    return Paragraph(
        f"{markup(line.name)}<br/><font size='7' color='#5B6570'>{markup(action)}</font>",
        act.styles.cell,
    )


def _checklist(act: ActContent) -> Section | None:
    entries = act.snapshot.checklist
    if not entries:
        return None
    if act.snapshot.zone is not None:
        return _checklist_v2(act)
    styles = act.styles
    language = act.snapshot.language
    widths = [25 * mm, 0, 66 * mm]
    widths[1] = CONTENT_WIDTH - sum(widths)
    offsets = {entry.answered_at.utcoffset() for entry in entries}
    time_heading = act.label("col.time")
    if len(offsets) == 1:
        # One offset for the whole log (the usual case): say it once in the header.
        time_heading += f" ({i18n.format_utc_offset(entries[0].answered_at)})"

    def when(entry: ChecklistEntry) -> str:
        # Steps answered on the act's date show the time only; earlier ones show the date too.
        if len(offsets) == 1 and entry.answered_at.date() == act.snapshot.act_date:
            return f"{entry.answered_at:%H:%M}"
        return i18n.format_datetime(entry.answered_at, language, with_offset=len(offsets) > 1)

    header = [
        para(time_heading, styles.head_cell),
        para(act.label("col.step"), styles.head_cell),
        para(act.label("col.answer"), styles.head_cell),
    ]
    body = [
        [
            para(when(entry), styles.cell),
            Paragraph(
                f"{markup(entry.label)} <font size='6.5' color='#5B6570'>"
                f"{markup(entry.step_id)}</font>",
                styles.cell,
            ),
            para(entry.answer or "—", styles.cell),
        ]
        for entry in entries
    ]
    table = Table([header, *body], colWidths=widths, repeatRows=1)
    table.setStyle(grid_table_style(act.fonts.regular))
    return act.label("section.checklist"), [table]


def _checklist_v2(act: ActContent) -> Section:
    """What was done, as statements with the answer and its evidence; no step ids."""
    snapshot = act.snapshot
    zone = snapshot.zone
    assert zone is not None
    styles = act.styles
    widths = [25 * mm, 0, 66 * mm]
    widths[1] = CONTENT_WIDTH - sum(widths)

    def when(entry: ChecklistEntry) -> str:
        local = entry.answered_at.astimezone(zone)
        # Steps answered on the act's date show the time only; earlier ones show the date too.
        if act.one_offset and local.date() == snapshot.act_date:
            return f"{local:%H:%M}"
        return act.when(local)

    def answer(entry: ChecklistEntry) -> Flowable:
        text = markup(entry.answer or "—")
        if isinstance(entry.evidence, str) and entry.evidence:
            text += f"<br/><font size='7' color='#5B6570'>{markup(entry.evidence)}</font>"
        return Paragraph(text, styles.cell)

    header = [
        para(act.label("col.time"), styles.head_cell),
        para(act.label("col.done"), styles.head_cell),
        para(act.label("col.answer"), styles.head_cell),
    ]
    body = [
        [para(when(entry), styles.cell), para(entry.label, styles.cell), answer(entry)]
        for entry in snapshot.checklist
    ]
    table = Table([header, *body], colWidths=widths, repeatRows=1)
    table.setStyle(grid_table_style(act.fonts.regular))
    return act.label("section.checklist"), [table]


def _photos(act: ActContent) -> Section | None:
    photos = act.snapshot.photos
    if not photos:
        return None
    styles = act.styles
    column = CONTENT_WIDTH / PHOTO_COLUMNS
    inner = column - 4 * mm
    cells: list[list[Flowable]] = []
    for photo, image in zip(photos, act.photos, strict=True):
        caption = [f"<b>{markup(photo.caption)}</b>"] if photo.caption else []
        if photo.taken_at is not None:
            caption.append(f"{markup(act.label('taken_at'))}: {markup(act.when(photo.taken_at))}")
        caption.append(f"<font color='#5B6570'>SHA-256 {photo.sha256[:16]}…</font>")
        cells.append(
            [
                fitted_image(image, inner, PHOTO_BOX_HEIGHT),
                Spacer(1, 1.2 * mm),
                Paragraph("<br/>".join(caption), styles.caption),
            ]
        )
    rows: list[list[Any]] = [
        cells[start : start + PHOTO_COLUMNS] for start in range(0, len(cells), PHOTO_COLUMNS)
    ]
    rows[-1] += [""] * (PHOTO_COLUMNS - len(rows[-1]))
    table = Table(rows, colWidths=[column] * PHOTO_COLUMNS)
    table.setStyle(
        table_style(
            act.fonts.regular,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ],
        )
    )
    return act.label("section.photos"), [table]


def _closing(act: ActContent) -> Iterator[Flowable]:
    styles = act.styles
    snapshot = act.snapshot
    block: list[Flowable] = [
        Spacer(1, 4 * mm),
        para(act.label(f"statement.{snapshot.kind}"), styles.body),
    ]
    if snapshot.customer_remarks:
        block += [
            Spacer(1, 2 * mm),
            Paragraph(
                f"<b>{markup(act.label('remarks'))}:</b> {markup(snapshot.customer_remarks)}",
                styles.body,
            ),
        ]
    block += [Spacer(1, 5 * mm), _signature_table(act)]
    # The statement and both signatures stay on one page: nothing signed is cut in half.
    yield KeepTogether(block)


def _signature_table(act: ActContent) -> Table:
    snapshot = act.snapshot
    issuer_line = f"{act.label('technician')} · {snapshot.issuer.legal_name}"
    contractor = _signature_cell(
        act, "contractor", act.label("contractor"), snapshot.technician.name, issuer_line
    )
    customer = _signature_cell(
        act, "customer", act.label("customer"), snapshot.acceptor.name, snapshot.customer.name
    )
    half = CONTENT_WIDTH / 2
    table = Table([[contractor, customer]], colWidths=[half, half])
    table.setStyle(
        table_style(
            act.fonts.regular,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6 * mm),
            ],
        )
    )
    return table


def _signature_cell(
    act: ActContent, role: SignerRole, heading: str, default_name: str, note: str
) -> list[Flowable]:
    styles = act.styles
    signature = act.signatures.get(role)
    width, height = SIGNATURE_BOX
    mode = act.snapshot.contractor_signature
    if signature is None and role == "contractor" and mode in STATEMENT_MODES:
        # The contractor confirms by statement (and seal), not by hand: no empty line.
        return [
            Paragraph(f"<b>{markup(heading)}</b>", styles.body),
            para(note, styles.muted),
            Spacer(1, 1.5 * mm),
            para(act.label(str(mode)), styles.body),
            Spacer(1, 1.5 * mm),
            para(default_name, styles.small),
        ]
    if signature is None:
        mark: Flowable = blank_signature_box(width, height, act.fonts.regular)
    elif signature.strokes is not None:
        mark = strokes_drawing(signature.strokes, width, height, act.fonts.regular)
    else:
        mark = fitted_image(act.signature_images[role], width, height)
    name = signature.signer_name if signature is not None else default_name
    line = Table([[""]], colWidths=[width], rowHeights=[1])
    line.setStyle(table_style(act.fonts.regular, [("LINEABOVE", (0, 0), (-1, -1), 0.6, GRID)]))
    cell: list[Flowable] = [
        Paragraph(f"<b>{markup(heading)}</b>", styles.body),
        para(note, styles.muted),
        Spacer(1, 1.5 * mm),
        mark,
        line,
        Paragraph(
            f"<font color='#5B6570' size='6.5'>({markup(act.label('signature'))})</font> "
            f"{markup(name)}",
            styles.small,
        ),
    ]
    if signature is not None:
        cell.append(
            para(
                f"{act.label('signed_at')}: {act.when(signature.signed_at)}",
                styles.muted,
            )
        )
        if signature.location is not None:
            where = signature.location
            cell.append(
                para(
                    f"{act.label('location')}: {where.lat:.6f}, {where.lon:.6f} "
                    f"±{where.accuracy_m:.0f} {act.label('metres')}",
                    styles.muted,
                )
            )
    return cell
