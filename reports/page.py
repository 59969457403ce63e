"""Page furniture (running header, footer with page x of y, hash and QR) and PDF identity."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from reports.fonts import FontSet
from reports.i18n import label, pdf_language_tag
from reports.qr import draw_qr
from reports.snapshot import Language

PAGE_MARGIN_LEFT = 18 * mm
PAGE_MARGIN_RIGHT = 14 * mm
PAGE_MARGIN_TOP = 16 * mm
FOOTER_HEIGHT = 34 * mm
QR_SIZE = 21 * mm
_QR_FORM = "naryadVerifyQr"
MUTED = colors.HexColor("#5B6570")
RULE = colors.HexColor("#9AA3AD")
# reportlab keeps per-font subset state shared between documents, so two documents built at once
# in threads can number glyph subsets differently and break byte-for-byte determinism. Building
# is serialised per process; preparing images and checking text stay parallel.
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class PageFurniture:
    """What every page repeats: who, which act, which content hash, where to verify it."""

    fonts: FontSet
    language: Language
    act_heading: str
    act_short: str
    issuer_name: str
    document_sha256: str
    verify_url: str


@dataclass(frozen=True)
class PdfIdentity:
    """Values that replace reportlab's clock and digest so equal inputs give equal bytes."""

    act_date: date
    recorded_at: datetime
    permanent_id: str
    instance_id: str

    def pdf_date(self, *_clock: int) -> str:
        """PDF date string for CreationDate/ModDate: the act date at midnight, customer's offset."""
        offset = self.recorded_at.utcoffset()
        minutes = int(offset.total_seconds()) // 60 if offset else 0
        sign = "-" if minutes < 0 else "+"
        minutes = abs(minutes)
        return f"D:{self.act_date:%Y%m%d}000000{sign}{minutes // 60:02d}'{minutes % 60:02d}'"

    def trailer_id(self) -> bytes:
        """The trailer /ID pair in the exact form reportlab writes it."""
        return f"\n[<{self.permanent_id}><{self.instance_id}>]\n".encode("ascii")


class ActCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """A canvas that holds pages back until the end, so each footer can say "page x of y"."""

    # The first pass is platypus laying out the story; the second pass runs in save(), when
    # the page count is known, and stamps the furniture on every held page. This is the same
    # result as building the document twice, at the cost of one layout.

    def __init__(
        self, *args: Any, furniture: PageFurniture, identity: PdfIdentity, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._furniture = furniture
        self._held_pages: list[dict[str, Any]] = []
        self.setDateFormatter(identity.pdf_date)
        # reportlab derives /ID from its own digest; ours is the snapshot hash, as documented.
        self._doc._ID = identity.trailer_id()

    def showPage(self) -> None:  # noqa: N802  (reportlab's name)
        """Hold the finished page instead of writing it."""
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        """Stamp header/footer on every held page, then write the document."""
        total = len(self._held_pages)
        self._define_qr_form()
        for state in self._held_pages:
            self.__dict__.update(state)
            self._draw_furniture(total)
            super().showPage()
        super().save()

    def _define_qr_form(self) -> None:
        # One Form XObject drawn on every page instead of hundreds of squares per page.
        self.beginForm(_QR_FORM, 0, 0, QR_SIZE, QR_SIZE)
        draw_qr(self, self._furniture.verify_url, 0, 0, QR_SIZE, self._furniture.fonts.regular)
        self.endForm()

    def _draw_furniture(self, total: int) -> None:
        furniture = self._furniture
        fonts = furniture.fonts
        width, height = self._pagesize
        left, right = PAGE_MARGIN_LEFT, width - PAGE_MARGIN_RIGHT
        page = self._pageNumber
        self.saveState()
        if page > 1:
            self.setFont(fonts.regular, 7.5)
            self.setFillColor(MUTED)
            heading = (
                f"{furniture.issuer_name} · {furniture.act_heading} "
                f"({label('continued', furniture.language)})"
            )
            self.drawString(
                left, height - 10 * mm, fit_text(heading, fonts.regular, 7.5, right - left)
            )
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(left, height - 11.5 * mm, right, height - 11.5 * mm)

        rule_y = FOOTER_HEIGHT - 3 * mm
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(left, rule_y, right, rule_y)

        # The QR stays >= 8 mm above the paper edge, clear of office printers' dead margins.
        qr_x, qr_y = right - QR_SIZE, rule_y - 2 * mm - QR_SIZE
        self.saveState()
        self.translate(qr_x, qr_y)
        self.doForm(_QR_FORM)
        self.restoreState()

        text_right = qr_x - 3 * mm
        self.setFillColor(colors.black)
        self.setFont(fonts.bold, 8)
        page_of = label("page_of", furniture.language, page=page, pages=total)
        self.drawRightString(text_right, rule_y - 5 * mm, page_of)
        room = text_right - left - stringWidth(page_of, fonts.bold, 8) - 4 * mm
        self.drawString(left, rule_y - 5 * mm, fit_text(furniture.act_short, fonts.bold, 8, room))
        self.setFillColor(MUTED)
        self.setFont(fonts.regular, 6.5)
        room = text_right - left
        sha_line = f"{label('document_sha256', furniture.language)}: {furniture.document_sha256}"
        verify_line = f"{label('verify', furniture.language)}: {furniture.verify_url}"
        self.drawString(left, rule_y - 9.5 * mm, fit_text(sha_line, fonts.regular, 6.5, room))
        self.drawString(left, rule_y - 13 * mm, fit_text(verify_line, fonts.regular, 6.5, room))
        self.restoreState()


def fit_text(text: str, font_name: str, size: float, max_width: float) -> str:
    """`text`, cut with an ellipsis if it is wider than `max_width` points."""
    if stringWidth(text, font_name, size) <= max_width:
        return text
    while text and stringWidth(text + "…", font_name, size) > max_width:
        text = text[:-1]
    return text + "…"


def build_pdf(
    story: Sequence[Flowable],
    furniture: PageFurniture,
    identity: PdfIdentity,
    *,
    template_id: str,
    keywords: str,
) -> bytes:
    """A4 PDF bytes of ``story`` under the page furniture; equal inputs give equal bytes."""
    buffer = io.BytesIO()
    frame = Frame(
        PAGE_MARGIN_LEFT,
        FOOTER_HEIGHT,
        A4[0] - PAGE_MARGIN_LEFT - PAGE_MARGIN_RIGHT,
        A4[1] - PAGE_MARGIN_TOP - FOOTER_HEIGHT,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        pageTemplates=[PageTemplate(id=template_id, frames=[frame])],
        invariant=1,
        # Without this reportlab references (unembedded) Helvetica as the canvas's start font.
        initialFontName=furniture.fonts.regular,
        lang=pdf_language_tag(furniture.language),
        title=furniture.act_heading,
        author=furniture.issuer_name,
        subject=f"sha256:{furniture.document_sha256}",
        creator="naryad reports",
        producer="naryad reports (ReportLab)",
        keywords=keywords,
    )
    with _BUILD_LOCK:
        doc.build(
            list(story), canvasmaker=partial(ActCanvas, furniture=furniture, identity=identity)
        )
    return buffer.getvalue()
