"""Paragraph styles, table styles and the small drawings (signature strokes) of an act."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, PolyLine, Rect
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, TableStyle

from reports.assets import PreparedImage
from reports.fonts import FontSet
from reports.snapshot import SignatureStrokes

INK = colors.HexColor("#1B2A6B")  # ballpoint blue, so a drawn signature reads as handwriting
HEADER_FILL = colors.HexColor("#E9EDF2")
GRID = colors.HexColor("#9AA3AD")
MUTED = colors.HexColor("#5B6570")


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of an act, bound to the registered DejaVu fonts."""

    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    head_cell: ParagraphStyle
    issuer: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    section: ParagraphStyle
    right: ParagraphStyle
    caption: ParagraphStyle
    center_small: ParagraphStyle


def make_styles(fonts: FontSet) -> Styles:
    """Build the styles once per render (ParagraphStyle objects are cheap)."""
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9, leading=11.5)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    small = ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5)
    return Styles(
        body=body,
        small=small,
        muted=ParagraphStyle("muted", parent=small, textColor=MUTED),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=fonts.bold),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        head_cell=ParagraphStyle(
            "head_cell", parent=cell, fontName=fonts.bold, fontSize=8, leading=10
        ),
        issuer=ParagraphStyle("issuer", parent=body, fontName=fonts.bold, fontSize=11, leading=14),
        title=ParagraphStyle(
            "title",
            parent=body,
            fontName=fonts.bold,
            fontSize=13.5,
            leading=17,
            alignment=TA_CENTER,
            spaceBefore=4 * mm,
            spaceAfter=1 * mm,
        ),
        subtitle=ParagraphStyle(
            "subtitle", parent=body, fontSize=10.5, leading=13, alignment=TA_CENTER
        ),
        section=ParagraphStyle(
            "section",
            parent=body,
            fontName=fonts.bold,
            fontSize=10,
            leading=13,
            spaceBefore=4.5 * mm,
            spaceAfter=1.5 * mm,
            alignment=TA_LEFT,
        ),
        right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        caption=ParagraphStyle("caption", parent=small, fontSize=7, leading=8.6),
        center_small=ParagraphStyle(
            "center_small", parent=small, alignment=TA_CENTER, textColor=MUTED, fontSize=6.5
        ),
    )


def markup(text: str) -> str:
    """Escape user text for a Paragraph and keep its line breaks."""
    return escape(text).replace("\t", " ").replace("\n", "<br/>")


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of plain user text (escaped)."""
    return Paragraph(markup(text), style)


def table_style(font_name: str, commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A TableStyle whose cell font is ours: reportlab's default cell font is Helvetica."""
    return TableStyle([("FONT", (0, 0), (-1, -1), font_name), *commands])


def grid_table_style(font_name: str, *, header_rows: int = 1) -> TableStyle:
    """Ruled table with a shaded header that repeats on each page."""
    return table_style(
        font_name,
        [
            ("GRID", (0, 0), (-1, -1), 0.4, GRID),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.8),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ],
    )


def fitted_image(image: PreparedImage, max_width: float, max_height: float) -> Image:
    """An Image flowable scaled to fit the box without distortion."""
    scale = min(max_width / image.width, max_height / image.height)
    return Image(io.BytesIO(image.data), width=image.width * scale, height=image.height * scale)


def strokes_drawing(
    signature: SignatureStrokes, width: float, height: float, font_name: str
) -> Drawing:
    """Vector drawing of handwritten strokes, fitted into width x height points."""
    aspect = signature.aspect_ratio
    draw_width, draw_height = (
        (height * aspect, height)
        if width / height > aspect
        else (
            width,
            width / aspect,
        )
    )
    left = (width - draw_width) / 2
    top = height - (height - draw_height) / 2
    drawing = Drawing(width, height, initialFontName=font_name)
    pen = 0.9 + draw_height / 120  # thicker pen for a bigger box, like real ink
    for stroke in signature.strokes:
        # Touch screens put y downwards; PDF puts it upwards.
        points = [(left + x * draw_width, top - y * draw_height) for x, y in stroke]
        if len(points) == 1:
            (cx, cy) = points[0]
            drawing.add(Circle(cx, cy, pen / 2, fillColor=INK, strokeColor=None))
            continue
        flat = [coordinate for point in points for coordinate in point]
        drawing.add(
            PolyLine(
                flat,
                strokeColor=INK,
                strokeWidth=pen,
                strokeLineCap=1,
                strokeLineJoin=1,
                fillColor=None,
            )
        )
    return drawing


def blank_signature_box(width: float, height: float, font_name: str) -> Drawing:
    """An empty area of the signature's size (for a party that signs on paper)."""
    drawing = Drawing(width, height, initialFontName=font_name)
    drawing.add(Rect(0, 0, width, height, strokeColor=None, fillColor=None))
    return drawing
