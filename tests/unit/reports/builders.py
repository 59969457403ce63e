"""Builders for act snapshots, signatures and images used by the reports tests."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from reports import ActSnapshot, Signature, parse_signatures, parse_snapshot, snapshot_sha256
from reports.samples import SAMPLES_DIR

CUSTOMER_NAME = "Әлия Қанатқызы Нұрланова"
ACT_NUMBER = "АВР-2025-000777"


def sha256(data: bytes) -> str:
    """Hex SHA-256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A small, distinct JPEG photo (different seed, different bytes)."""
    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    draw = ImageDraw.Draw(image)
    draw.rectangle([(10 + seed * 7, 20), (120 + seed * 9, 140)], fill=(250, 250, 250))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def signature_png() -> bytes:
    """A transparent PNG with a scribble, like a signature pad export."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 70), (80, 20), (150, 80), (290, 30)], fill="black", width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def snapshot_dict(
    *,
    language: str = "ru",
    kind: str = "completion",
    photos: Sequence[bytes] = (),
    checklist_steps: int = 3,
) -> dict[str, Any]:
    """A valid act snapshot as JSON-ready dicts; tests mutate it to make bad input."""
    return {
        "act_number": ACT_NUMBER,
        "kind": kind,
        "language": language,
        "place": "г. Алматы",
        "act_date": "2025-03-12",
        "issuer": {
            "legal_name": "ТОО «Дала Телеком Сервис»",
            "tax_id": "180940012345",
            "address": "г. Алматы, пр. Абая, 150",
            "phone": "+7 727 300 00 00",
        },
        "work_order": {
            "number": "НР-2025-1",
            "type": "installation",
            "requested_services": ["Интернет 500 Мбит/с"],
        },
        "customer": {"name": CUSTOMER_NAME, "phones": ["+7 701 555 12 34"]},
        "acceptor": {"name": CUSTOMER_NAME},
        "site": {"address": "г. Алматы, мкр. Самал-2, д. 58, кв. 31"},
        "technician": {"name": "Ғалымжан Өмірұлы Серікбаев", "employee_no": "004217"},
        "agreed_window": {
            "start": "2025-03-12T10:00:00+05:00",
            "end": "2025-03-12T12:00:00+05:00",
        },
        "arrived_at": "2025-03-12T10:12:00+05:00",
        "finished_at": "2025-03-12T11:48:00+05:00",
        "works_performed": ["Установка и настройка ONT", "Прокладка кабеля 18 м"],
        "equipment": [
            {
                "name": "Оптический терминал",
                "model": "HG8245X6",
                "serial": "48575443A1B2C3D4",
                "quantity": 1,
                "unit": "шт",
            },
            {"name": "Кабель FTTH", "quantity": "18.5", "unit": "м"},
        ],
        "checklist": [
            {
                "step_id": f"step_{index}",
                "label": f"Шаг проверки номер {index}: ұқыпты орындалды",
                "answer": "да" if index % 2 else "Иә, бәрі дұрыс",
                "answered_at": f"2025-03-12T{10 + index // 60:02d}:{index % 60:02d}:00+05:00",
            }
            for index in range(checklist_steps)
        ],
        "photos": [
            {"sha256": sha256(data), "caption": f"Фото {index + 1}"}
            for index, data in enumerate(photos)
        ],
        "verify_url": "https://naryad.example.kz/verify/acts/abc123",
    }


def build_snapshot(**kwargs: Any) -> ActSnapshot:
    """`snapshot_dict` parsed into an ActSnapshot."""
    return parse_snapshot(snapshot_dict(**kwargs))


def customer_strokes_signature(snapshot: ActSnapshot) -> Signature:
    """A customer signature drawn as strokes over `snapshot`."""
    return parse_signatures(
        [
            {
                "role": "customer",
                "signer_name": CUSTOMER_NAME,
                "signed_at": "2025-03-12T11:47:00+05:00",
                "document_sha256": snapshot_sha256(snapshot),
                "location": {"lat": 43.2337, "lon": 76.9571, "accuracy_m": 9},
                "strokes": {"strokes": [[[0.1, 0.5], [0.3, 0.2], [0.6, 0.8], [0.9, 0.4]]]},
            }
        ]
    )[0]


def contractor_image_signature(snapshot: ActSnapshot, png: bytes) -> Signature:
    """A technician signature given as a PNG asset over `snapshot`."""
    return parse_signatures(
        [
            {
                "role": "contractor",
                "signer_name": "Ғалымжан Серікбаев",
                "signed_at": "2025-03-12T11:46:00+05:00",
                "document_sha256": snapshot_sha256(snapshot),
                "image_sha256": sha256(png),
            }
        ]
    )[0]


def load_sample(
    name: str = "act_sample.json",
) -> tuple[ActSnapshot, tuple[Signature, ...], dict[str, bytes]]:
    """A shipped sample act with its signatures and every image next to it."""
    envelope = msgspec.json.decode((SAMPLES_DIR / name).read_bytes())
    assets = {
        sha256(path.read_bytes()): path.read_bytes()
        for path in Path(SAMPLES_DIR).iterdir()
        if path.suffix in (".jpg", ".png")
    }
    return (
        parse_snapshot(envelope["snapshot"]),
        parse_signatures(envelope["signatures"]),
        assets,
    )


def page_texts(pdf: bytes) -> list[str]:
    """Text of every page, as pypdf extracts it."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def image_xobjects(pdf: bytes) -> set[tuple[int, int]]:
    """Distinct image XObjects used by the pages (by object id), forms included."""
    reader = PdfReader(io.BytesIO(pdf))
    found: set[tuple[int, int]] = set()

    def visit(resources: Any) -> None:
        xobjects = resources.get("/XObject") if resources else None
        if not xobjects:
            return
        for reference in xobjects.get_object().values():
            target = reference.get_object()
            if target.get("/Subtype") == "/Image":
                assert isinstance(reference, IndirectObject)
                found.add((reference.idnum, reference.generation))
            elif target.get("/Subtype") == "/Form":
                visit(target.get("/Resources"))

    for page in reader.pages:
        visit(page.get("/Resources"))
    return found


def snapshot_v2_dict(*, language: str = "ru", kind: str = "completion") -> dict[str, Any]:
    """A valid version 2 snapshot: a repair visit with a replaced unit and statement rows."""
    data = snapshot_dict(language=language, kind=kind, checklist_steps=0)
    data["version"] = 2
    data["time_zone"] = "Asia/Almaty"
    data["contractor_signature"] = "seal_statement"
    data["work_order"] = {
        "number": "НР-2025-1",
        "type": "repair",
        "requested_services": ["Интернет 500 Мбит/с"],
        "description": "Нет интернета с утра, на терминале мигает красный индикатор LOS",
    }
    data["equipment"] = [
        {
            "name": "Оптический терминал",
            "model": "HG8245X6",
            "serial": "48575443A1B2C3D4",
            "quantity": 1,
            "unit": "шт",
            "action": "replaced",
            "replaced_serial": "48575443FFEE0011",
        },
        {"name": "Патч-корд SC/APC", "quantity": 2, "unit": "шт", "action": "installed"},
    ]
    data["checklist"] = [
        {
            "step_id": "geo_arrival",
            "label": "Прибыл по адресу объекта",
            "answer": "Да",
            "evidence": "35 м от адреса (±12 м)",
            "answered_at": "2025-03-12T10:12:00+05:00",
        },
        {
            "step_id": "acceptor_name",
            "label": "Уточнил, кто принимает работу",
            "answer": CUSTOMER_NAME,
            "answered_at": "2025-03-12T10:14:00+05:00",
        },
        {
            "step_id": "fault_cause",
            "label": "Установил причину неисправности",
            "answer": "Повреждение оптического кабеля",
            "answered_at": "2025-03-12T10:40:00+05:00",
        },
        {
            "step_id": "photo_after",
            "label": "Сфотографировал место работ после",
            "answer": "3 фото",
            "answered_at": "2025-03-12T11:30:00+05:00",
        },
    ]
    return data
