"""reportlab against WeasyPrint for the same act: two pages, six photos, two signatures."""

from __future__ import annotations

import base64
import hashlib
import html
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

import msgspec
from reportlab.graphics.barcode.qrencoder import QRCode, QRErrorCorrectLevel

from reports import (
    ActSnapshot,
    Language,
    Signature,
    parse_signatures,
    parse_snapshot,
    render_act,
)
from reports.fonts import BOLD_FILE, REGULAR_FILE, find_font_dir
from reports.i18n import format_datetime, format_long_date, format_window, label, title
from reports.samples import SAMPLE_ACT, SAMPLES_DIR

CHECKLIST_STEPS = 8  # with six photos this lays out on two A4 pages
TIME_BUDGET_S = 7.0  # per engine, so the whole bench stays near 20 s on a slow machine
MIN_RUNS, MAX_RUNS = 3, 15
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"


def main() -> None:
    """Print median render times for both engines and their ratio."""
    snapshot, signatures, assets = _two_page_act()
    pdf = render_act(snapshot, signatures=signatures, assets=assets)
    pages = pdf.count(b"/Type /Page\n")
    reportlab_s = _median(lambda: render_act(snapshot, signatures=signatures, assets=assets))
    print(
        f"reportlab : median {reportlab_s * 1000:7.1f} ms per act "
        f"({pages} pages, {len(snapshot.photos)} photos, {len(signatures)} signatures, "
        f"{len(pdf) // 1024} KiB)"
    )
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        print(
            f"weasyprint: not available ({type(exc).__name__}: {exc}); it needs Pango: "
            f"apt-get install {PANGO_PACKAGES}"
        )
        return
    page = _html_act(snapshot, signatures, assets)
    weasy_pdf = weasyprint.HTML(string=page).write_pdf()
    assert weasy_pdf is not None
    weasy_pages = len(weasyprint.HTML(string=page).render().pages)
    weasyprint_s = _median(lambda: weasyprint.HTML(string=page).write_pdf())
    print(
        f"weasyprint: median {weasyprint_s * 1000:7.1f} ms per act "
        f"({weasy_pages} pages, same photos as data URIs, {len(weasy_pdf) // 1024} KiB)"
    )
    print(f"ratio     : weasyprint / reportlab = {weasyprint_s / reportlab_s:.1f}x")


def _median(render: Callable[[], object]) -> float:
    render()  # warm-up: font parsing and imports are not what we compare
    times: list[float] = []
    deadline = time.perf_counter() + TIME_BUDGET_S
    while len(times) < MIN_RUNS or (len(times) < MAX_RUNS and time.perf_counter() < deadline):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _two_page_act() -> tuple[ActSnapshot, tuple[Signature, ...], dict[str, bytes]]:
    envelope = msgspec.json.decode(SAMPLE_ACT.read_bytes())
    raw = envelope["snapshot"]
    raw["checklist"] = raw["checklist"][:CHECKLIST_STEPS]
    snapshot = parse_snapshot(raw)
    document_sha256 = hashlib.sha256(msgspec.json.encode(snapshot, order="sorted")).hexdigest()
    for signature in envelope["signatures"]:
        signature["document_sha256"] = document_sha256  # re-bound to the shortened snapshot
    assets = {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.read_bytes()
        for path in sorted(SAMPLES_DIR.iterdir())
        if path.suffix in (".jpg", ".png")
    }
    return snapshot, parse_signatures(envelope["signatures"]), assets


def _html_act(
    snapshot: ActSnapshot, signatures: Sequence[Signature], assets: Mapping[str, bytes]
) -> str:
    """The same act as HTML + CSS paged media, for WeasyPrint."""
    lang = snapshot.language

    def t(key: str, **values: object) -> str:
        return html.escape(label(key, lang, **values))

    def e(text: str) -> str:
        return html.escape(text)

    fonts = find_font_dir()
    heading = f"{title(snapshot.kind, lang)} № {snapshot.act_number}"
    rows = [
        (t("contractor"), f"{e(snapshot.issuer.legal_name)}, БИН {e(snapshot.issuer.tax_id)}"),
        (t("technician"), f"{e(snapshot.technician.name)}, {t('employee_no')} "
                          f"{e(snapshot.technician.employee_no)}"),
        (t("customer"), e(snapshot.customer.name)),
        (t("acceptor"), e(snapshot.acceptor.name)),
        (t("site"), e(snapshot.site.address)),
        (t("work_order"), f"№ {e(snapshot.work_order.number)}"),
        (t("agreed_window"), e(format_window(snapshot.agreed_window.start,
                                             snapshot.agreed_window.end, lang))),
        (t("arrived_at"), e(format_datetime(snapshot.arrived_at, lang))),
        (t("finished_at"), e(format_datetime(snapshot.finished_at, lang))),
    ]  # fmt: skip
    works = "".join(
        f"<tr><td>{n}</td><td>{e(line)}</td></tr>"
        for n, line in enumerate(snapshot.works_performed, 1)
    )
    equipment = "".join(
        f"<tr><td>{n}</td><td>{e(item.name)}</td><td>{e(item.model or '—')}</td>"
        f"<td>{e(item.serial or '—')}</td><td class=r>{item.quantity}</td>"
        f"<td>{e(item.unit)}</td></tr>"
        for n, item in enumerate(snapshot.equipment, 1)
    )
    checklist = "".join(
        f"<tr><td>{entry.answered_at:%H:%M}</td><td>{e(entry.label)} <small>{e(entry.step_id)}"
        f"</small></td><td>{e(entry.answer)}</td></tr>"
        for entry in snapshot.checklist
    )
    photos = "".join(
        f"<figure><img src='{_data_uri(assets[photo.sha256])}'><figcaption><b>{e(photo.caption)}"
        f"</b><br><small>SHA-256 {photo.sha256[:16]}…</small></figcaption></figure>"
        for photo in snapshot.photos
    )
    signature_cells = "".join(_html_signature(signature, assets, lang) for signature in signatures)
    qr = _data_uri(_qr_svg(snapshot.verify_url), "image/svg+xml")
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><style>
@font-face {{ font-family: Act; src: url("file://{fonts / REGULAR_FILE}"); }}
@font-face {{ font-family: Act; font-weight: bold; src: url("file://{fonts / BOLD_FILE}"); }}
@page {{ size: A4; margin: 16mm 14mm 34mm 18mm;
  @bottom-left {{ content: "{e(label("act_short", lang, number=snapshot.act_number))} · "
                  counter(page) " / " counter(pages); font: bold 8pt Act; }} }}
body {{ font: 9pt/1.3 Act; }} h1 {{ text-align: center; font-size: 13.5pt; margin: 4mm 0 0; }}
h2 {{ font-size: 10pt; margin: 4mm 0 1.5mm; }} table {{ width: 100%; border-collapse: collapse; }}
td, th {{ border: 0.4pt solid #9aa3ad; padding: 2pt 3pt; vertical-align: top; font-size: 8.5pt; }}
th {{ background: #e9edf2; text-align: left; }} thead {{ display: table-header-group; }}
.r {{ text-align: right; }} small {{ color: #5b6570; font-size: 6.5pt; }}
figure {{ display: inline-block; width: 31%; margin: 0 1% 3mm; vertical-align: top; }}
figure img {{ width: 100%; }} figcaption {{ font-size: 7pt; }}
.sig {{ display: inline-block; width: 48%; vertical-align: top; }}
.qr {{ position: fixed; bottom: -30mm; right: 0; width: 21mm; height: 21mm; }}
.hash {{ position: fixed; bottom: -24mm; left: 0; font-size: 6.5pt; color: #5b6570; }}
</style></head><body>
<img class=qr src="{qr}"><div class=hash>{t("document_sha256")}: {snapshot_digest(snapshot)}<br>
{t("verify")}: {e(snapshot.verify_url)}</div>
<p><b>{e(snapshot.issuer.legal_name)}</b><br>{e(snapshot.issuer.address)}<br>
{t("phone")}: {e(snapshot.issuer.phone)}</p>
<h1>{e(heading)}</h1>
<p>{e(snapshot.place)} <span style="float:right">{e(format_long_date(snapshot.act_date, lang))}
</span></p>
<table>{"".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)}</table>
<h2>1. {t("section.works")}</h2><table><thead><tr><th>№</th><th>{t("col.description")}</th>
</tr></thead>{works}</table>
<h2>2. {t("section.equipment")}</h2><table><thead><tr><th>№</th><th>{t("col.item")}</th>
<th>{t("col.model")}</th><th>{t("col.serial")}</th><th>{t("col.quantity")}</th>
<th>{t("col.unit")}</th></tr></thead>{equipment}</table>
<h2>3. {t("section.checklist")}</h2><table><thead><tr><th>{t("col.time")}</th>
<th>{t("col.step")}</th><th>{t("col.answer")}</th></tr></thead>{checklist}</table>
<h2>4. {t("section.photos")}</h2>{photos}
<p>{t(f"statement.{snapshot.kind}")}</p>{signature_cells}
</body></html>"""


def snapshot_digest(snapshot: ActSnapshot) -> str:
    """Same hash the reportlab footer prints."""
    return hashlib.sha256(msgspec.json.encode(snapshot, order="sorted")).hexdigest()


def _html_signature(signature: Signature, assets: Mapping[str, bytes], lang: Language) -> str:
    if signature.strokes is not None:
        aspect = signature.strokes.aspect_ratio
        lines = "".join(
            "<polyline fill='none' stroke='#1b2a6b' stroke-width='0.012' stroke-linecap='round' "
            "points='" + " ".join(f"{x * aspect:.4f},{y:.4f}" for x, y in stroke) + "'/>"
            for stroke in signature.strokes.strokes
        )
        mark = f"<svg viewBox='0 0 {aspect} 1' style='width:62mm;height:20mm'>{lines}</svg>"
    else:
        assert signature.image_sha256 is not None
        uri = _data_uri(assets[signature.image_sha256], "image/png")
        mark = f"<img src='{uri}' style='max-width:62mm;max-height:20mm'>"
    role = label(signature.role, lang)
    return (
        f"<div class=sig><b>{html.escape(role)}</b><br>{mark}<hr>"
        f"{html.escape(signature.signer_name)}<br><small>"
        f"{html.escape(format_datetime(signature.signed_at, lang))}</small></div>"
    )


def _data_uri(data: bytes, mime: str = "image/jpeg") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _qr_svg(url: str) -> bytes:
    """The verification QR code as SVG squares (WeasyPrint has no barcode support)."""
    code = QRCode(None, QRErrorCorrectLevel.M)
    code.addData(url)
    code.make()
    count = code.getModuleCount()
    squares = "".join(
        f"<rect x='{col + 2}' y='{row + 2}' width='1' height='1'/>"
        for row in range(count)
        for col in range(count)
        if code.isDark(row, col)
    )
    size = count + 4
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {size} {size}'>{squares}</svg>"
    return svg.encode()


if __name__ == "__main__":
    main()
