"""QR code of the public verification URL, drawn as vector squares."""

from __future__ import annotations

from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing


def qr_drawing(url: str, size: float, font_name: str) -> Drawing:
    """A `size` x `size` point drawing of `url` as a QR code (level M, 2-module quiet zone)."""
    # Level M survives a crease or a smudge on a printed act; a wider quiet zone wastes space
    # that the footer does not have, and 2 modules scan fine on white paper.
    widget = QrCodeWidget(url, barLevel="M", barBorder=2, barWidth=size, barHeight=size)
    # Drawings start from Helvetica unless told otherwise; keep every font reference embedded.
    drawing = Drawing(size, size, initialFontName=font_name)
    drawing.add(widget)
    return drawing


def draw_qr(canvas: Any, url: str, x: float, y: float, size: float, font_name: str) -> None:
    """Draw the QR code of `url` with its lower-left corner at (x, y)."""
    renderPDF.draw(qr_drawing(url, size, font_name), canvas, x, y)


def qr_svg(url: str, size: float = 240) -> bytes:
    """`url` as a QR code in a standalone SVG document (for web pages, no script, no fonts)."""
    from reportlab.graphics import renderSVG

    widget = QrCodeWidget(url, barLevel="M", barBorder=4, barWidth=size, barHeight=size)
    drawing = Drawing(size, size)
    drawing.add(widget)
    svg: str = renderSVG.drawToString(drawing)
    return svg.encode("utf-8")
