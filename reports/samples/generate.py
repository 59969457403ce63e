"""Regenerate the sample acts and their images: `python -m reports.samples.generate`."""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from reports.fonts import BOLD_FILE, find_font_dir
from reports.samples import SAMPLE_ACTS, SAMPLES_DIR
from reports.snapshot import parse_snapshot, snapshot_sha256

PHOTO_SIZE = (640, 480)
_POINT = re.compile(r"\[\s+(-?[0-9.]+),\s+(-?[0-9.]+)\s+\]")

# (file name, background top colour, bottom colour, scene) for six photos of one installation.
_PHOTOS: tuple[tuple[str, tuple[int, int, int], tuple[int, int, int], str], ...] = (
    ("photo_1_panel_before.jpg", (120, 128, 138), (70, 76, 84), "panel"),
    ("photo_2_wall_before.jpg", (222, 214, 196), (186, 176, 156), "wall"),
    ("photo_3_cable_duct.jpg", (226, 220, 206), (190, 182, 166), "duct"),
    ("photo_4_ont_installed.jpg", (214, 218, 222), (170, 176, 184), "ont"),
    ("photo_5_iptv_box.jpg", (60, 64, 72), (28, 30, 36), "tv"),
    ("photo_6_area_clean.jpg", (232, 226, 214), (200, 192, 178), "floor"),
)
TECHNICIAN_SIGNATURE = "signature_technician.png"


def main() -> None:
    """Write the images and the three sample JSON files next to this module."""
    font = ImageFont.truetype(str(find_font_dir() / BOLD_FILE), 22)
    photo_hashes = []
    for name, top, bottom, scene in _PHOTOS:
        data = _photo(top, bottom, scene, font)
        (SAMPLES_DIR / name).write_bytes(data)
        photo_hashes.append(hashlib.sha256(data).hexdigest())
    signature_png = _technician_signature()
    (SAMPLES_DIR / TECHNICIAN_SIGNATURE).write_bytes(signature_png)
    signature_hash = hashlib.sha256(signature_png).hexdigest()
    for language, path in SAMPLE_ACTS.items():
        snapshot = _snapshot(language, photo_hashes)
        document_sha256 = snapshot_sha256(parse_snapshot(snapshot))
        envelope = {
            "snapshot": snapshot,
            "signatures": _signatures(language, document_sha256, signature_hash),
            "assets_dir": ".",
        }
        text = json.dumps(envelope, ensure_ascii=False, indent=2)
        # One stroke point per line instead of three keeps the file readable.
        text = _POINT.sub(r"[\1, \2]", text)
        path.write_text(text + "\n", "utf-8")
        print(f"wrote {path.name} (sha256 {document_sha256})")


def _photo(
    top: tuple[int, int, int],
    bottom: tuple[int, int, int],
    scene: str,
    font: ImageFont.FreeTypeFont,
) -> bytes:
    width, height = PHOTO_SIZE
    image = Image.new("RGB", PHOTO_SIZE)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        mix = y / (height - 1)
        colour = tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    _SCENES[scene](draw, width, height)
    draw.rectangle([(0, height - 34), (width, height)], fill=(20, 22, 26))
    draw.text((12, height - 30), f"naryad · sample · {scene}", font=font, fill=(235, 235, 235))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=78)
    return out.getvalue()


def _scene_panel(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.rectangle([(150, 40), (490, 400)], fill=(196, 200, 204), outline=(60, 60, 60), width=4)
    for row in range(4):
        for col in range(6):
            x, y = 180 + col * 50, 70 + row * 75
            draw.rectangle([(x, y), (x + 34, y + 50)], fill=(240, 240, 236), outline=(90, 90, 90))
    for index in range(7):
        draw.line([(200 + index * 40, 400), (230 + index * 30, 440)], fill=(30, 90, 200), width=5)


def _scene_wall(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.rectangle([(0, 330), (width, 446)], fill=(150, 110, 80))
    draw.rectangle([(270, 170), (370, 250)], fill=(245, 245, 240), outline=(150, 150, 150), width=3)
    draw.ellipse([(300, 195), (316, 211)], fill=(60, 60, 60))
    draw.ellipse([(324, 195), (340, 211)], fill=(60, 60, 60))


def _scene_duct(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.rectangle([(0, 90), (width, 116)], fill=(250, 250, 250), outline=(170, 170, 170), width=2)
    draw.rectangle([(560, 116), (586, 446)], fill=(250, 250, 250), outline=(170, 170, 170), width=2)
    draw.line([(0, 103), (573, 103), (573, 446)], fill=(250, 200, 40), width=3)


def _scene_ont(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.rounded_rectangle([(170, 150), (470, 300)], radius=18, fill=(248, 248, 248))
    for index, colour in enumerate(((40, 200, 60), (40, 200, 60), (40, 200, 60), (240, 160, 20))):
        x = 210 + index * 40
        draw.ellipse([(x, 255), (x + 14, 269)], fill=colour)
    draw.line([(470, 230), (640, 200)], fill=(250, 200, 40), width=4)
    draw.line([(170, 240), (0, 300)], fill=(40, 90, 210), width=6)


def _scene_tv(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    draw.rectangle([(90, 40), (550, 300)], fill=(12, 14, 18), outline=(80, 80, 80), width=6)
    draw.rectangle([(110, 60), (530, 280)], fill=(40, 110, 170))
    draw.rounded_rectangle([(240, 350), (400, 390)], radius=8, fill=(30, 30, 34))
    draw.ellipse([(380, 362), (390, 372)], fill=(40, 220, 80))


def _scene_floor(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    for index in range(9):
        x = index * 80
        draw.polygon(
            [(x, 446), (x + 80, 446), (x + 140, 250), (x + 60, 250)], outline=(170, 150, 120)
        )
    draw.rectangle([(0, 0), (width, 250)], fill=(236, 232, 222))
    draw.rectangle([(420, 120), (560, 200)], fill=(248, 248, 248), outline=(150, 150, 150))


_SCENES = {
    "panel": _scene_panel,
    "wall": _scene_wall,
    "duct": _scene_duct,
    "ont": _scene_ont,
    "tv": _scene_tv,
    "floor": _scene_floor,
}


def _technician_signature() -> bytes:
    width, height = 600, 200
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line(_cursive(0.05, 0.62, loops=5, amplitude=0.28, width=width, height=height),
              fill=(20, 30, 60, 255), width=5, joint="curve")  # fmt: skip
    draw.line([(int(0.1 * width), int(0.82 * height)), (int(0.9 * width), int(0.74 * height))],
              fill=(20, 30, 60, 255), width=4)  # fmt: skip
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _cursive(
    start: float, span: float, *, loops: int, amplitude: float, width: float = 1, height: float = 1
) -> list[tuple[float, float]]:
    # A trochoid: the looping baseline of quick handwriting.
    points = []
    for step in range(121):
        t = step / 120
        envelope = 0.55 + 0.45 * math.sin(math.pi * t)
        x = start + span * t + 0.035 * math.cos(2 * math.pi * loops * t)
        y = 0.5 - amplitude * envelope * math.sin(2 * math.pi * loops * t)
        points.append((round(x * width, 4), round(y * height, 4)))
    return points


def _signatures(language: str, document_sha256: str, technician_png: str) -> list[Any]:
    customer_name, technician_name = _PEOPLE[language]
    return [
        {
            "role": "contractor",
            "signer_name": technician_name,
            "signed_at": "2025-03-12T11:47:05+05:00",
            "document_sha256": document_sha256,
            "image_sha256": technician_png,
        },
        {
            "role": "customer",
            "signer_name": customer_name,
            "signed_at": "2025-03-12T11:47:52+05:00",
            "document_sha256": document_sha256,
            "location": {"lat": 43.2337, "lon": 76.9571, "accuracy_m": 9.0},
            "strokes": {
                "aspect_ratio": 3.0,
                "strokes": [
                    _cursive(0.06, 0.5, loops=4, amplitude=0.3),
                    _cursive(0.6, 0.3, loops=2, amplitude=0.22),
                    [[0.08, 0.86], [0.4, 0.8], [0.7, 0.83], [0.93, 0.78]],
                ],
            },
        },
    ]


_PEOPLE = {
    "ru": ("Әлия Қанатқызы Нұрланова", "Ғалымжан Өмірұлы Серікбаев"),
    "kk": ("Әлия Қанатқызы Нұрланова", "Ғалымжан Өмірұлы Серікбаев"),
    "en": ("Aliya Nurlanova", "Galymzhan Serikbayev"),
}

# Checklist steps of seed 000 §12 (ids from DOMAIN.md): (id, minute offset from 08:00, ru, kk, en)
_STEPS: tuple[tuple[str, int, str, str, str], ...] = (
    (
        "supervisor_check",
        40,
        "Проверка руководителем перед выездом",
        "Жетекшінің тексеруі",
        "Supervisor check",
    ),
    (
        "materials_ready",
        42,
        "Комплект материалов и инструментов",
        "Материалдар мен құралдар жинағы",
        "Materials and tools ready",
    ),
    ("overshoes_on_hand", 42, "Бахилы при себе", "Бахилалар бар", "Overshoes on hand"),
    (
        "visit_time_known",
        43,
        "Время визита согласовано",
        "Келу уақыты келісілген",
        "Visit time known",
    ),
    (
        "support_contacts_known",
        43,
        "Телефоны поддержки и координатора",
        "Қолдау және үйлестіруші телефондары",
        "Support contacts known",
    ),
    ("geo_arrival", 132, "Прибытие на объект", "Объектіге келу", "Arrived at site"),
    (
        "greeting",
        133,
        "Приветствие, цель визита",
        "Сәлемдесу, келу мақсаты",
        "Greeting, purpose stated",
    ),
    ("show_id", 133, "Предъявлено удостоверение", "Куәлік көрсетілді", "Company ID shown"),
    ("adult_present", 133, "Дверь открыл взрослый", "Есікті ересек адам ашты", "Adult present"),
    ("acceptor_name", 134, "Кто принимает работу", "Жұмысты кім қабылдайды", "Acceptor identified"),
    ("overshoes_on", 134, "Надеты бахилы", "Бахилалар киілді", "Overshoes on"),
    ("invited_in", 134, "Вошёл по приглашению", "Шақыруымен кірді", "Entered when invited"),
    ("photo_before", 136, "Фото до начала работ", "Жұмысқа дейінгі фото", "Photo before"),
    (
        "actions_explained",
        140,
        "Действия поясняются заказчику",
        "Әрекеттер түсіндірілді",
        "Actions explained",
    ),
    (
        "no_damage_area_clean",
        200,
        "Без повреждений, место убрано",
        "Зақымсыз, орын тазаланды",
        "No damage, area clean",
    ),
    ("photo_after", 201, "Фото после работ", "Жұмыстан кейінгі фото", "Photo after"),
    (
        "equipment_installed",
        203,
        "Оборудование и серийные номера",
        "Жабдық және сериялық нөмірлер",
        "Equipment and serials",
    ),
    (
        "demo_service",
        206,
        "Демонстрация работы услуги",
        "Қызметтің жұмысын көрсету",
        "Service demonstrated",
    ),
    (
        "customer_satisfied",
        207,
        "Всё ли устраивает заказчика",
        "Тапсырыс беруші риза ма",
        "Customer satisfied",
    ),
    (
        "usage_advice",
        208,
        "Консультация по использованию",
        "Пайдалану бойынша кеңес",
        "Usage advice",
    ),
    (
        "channels_informed",
        208,
        "Каналы самообслуживания",
        "Өзіне-өзі қызмет көрсету арналары",
        "Self-service channels",
    ),
)

_ANSWERS = {
    "ru": {
        "geo_arrival": "на объекте, 14 м от адреса",
        "acceptor_name": "Әлия Қанатқызы Нұрланова",
        "photo_before": "2 фото",
        "photo_after": "4 фото",
        "equipment_installed": "5 позиций, серийные номера отсканированы",
        "customer_satisfied": "Да, всё устраивает",
        "channels_informed": "личный кабинет, мобильное приложение, WhatsApp",
    },
    "kk": {
        "geo_arrival": "объектіде, мекенжайдан 14 м",
        "acceptor_name": "Әлия Қанатқызы Нұрланова",
        "photo_before": "2 фото",
        "photo_after": "4 фото",
        "equipment_installed": "5 позиция, сериялық нөмірлер сканерленді",
        "customer_satisfied": "Иә, бәрі ұнайды",
        "channels_informed": "жеке кабинет, мобильді қосымша, WhatsApp",
    },
    "en": {
        "geo_arrival": "on site, 14 m from the address",
        "acceptor_name": "Aliya Nurlanova",
        "photo_before": "2 photos",
        "photo_after": "4 photos",
        "equipment_installed": "5 items, serial numbers scanned",
        "customer_satisfied": "Yes, all fine",
        "channels_informed": "personal cabinet, mobile app, WhatsApp",
    },
}
_YES = {"ru": "да", "kk": "иә", "en": "yes"}

_TEXT: dict[str, dict[str, Any]] = {
    "ru": {
        "act_number": "АВР-2025-000123",
        "kind": "completion",
        "place": "г. Алматы",
        "issuer": {
            "legal_name": "ТОО «Дала Телеком Сервис»",
            "address": "г. Алматы, пр. Абая, 150, офис 12",
        },
        "site": "г. Алматы, мкр. Самал-2, д. 58, кв. 31",
        "services": ["Домашний интернет 500 Мбит/с (GPON)", "IPTV, 2 приставки"],
        "works": [
            "Прокладка оптического кабеля от этажного щита до квартиры (18 м) в кабель-канале",
            "Установка и подключение оптического терминала (ONT), настройка Wi-Fi 2,4/5 ГГц",
            "Подключение и настройка двух IPTV-приставок",
            "Измерение скорости: приём 487 Мбит/с, передача 492 Мбит/с",
            "Демонстрация работы услуг, консультация по безопасному использованию",
        ],
        "equipment": [
            (
                "Оптический терминал (ONT)",
                "Huawei EchoLife HG8245X6",
                "48575443A1B2C3D4",
                "1",
                "шт",
            ),
            ("IPTV-приставка", "Kaon KSTB6077", "KA24B0019283", "1", "шт"),
            ("IPTV-приставка", "Kaon KSTB6077", "KA24B0019377", "1", "шт"),
            ("Кабель оптический FTTH, 1 волокно", "", "", "18", "м"),
            ("Кабель-канал 20×10 мм", "", "", "6.5", "м"),
        ],
        "captions": [
            "Этажный щит до работ",
            "Место установки до работ",
            "Кабель-канал проложен",
            "ONT установлен и подключён",
            "IPTV-приставка подключена",
            "Рабочая зона убрана",
        ],
        "remarks": "",
    },
    "kk": {
        "act_number": "АВР-2025-000124",
        "kind": "handover",
        "place": "Алматы қ.",
        "issuer": {
            "legal_name": "«Дала Телеком Сервис» ЖШС",
            "address": "Алматы қ., Абай даңғылы, 150, 12-кеңсе",
        },
        "site": "Алматы қ., Самал-2 ы/а, 58-үй, 31-пәтер",
        "services": ["Үй интернеті 500 Мбит/с (GPON)", "IPTV, 2 приставка"],
        "works": [
            "Қабаттық қалқаннан пәтерге дейін оптикалық кабель тартылды (18 м), кабель-арнада",
            "Оптикалық терминал (ONT) орнатылып қосылды, Wi-Fi 2,4/5 ГГц бапталды",
            "Екі IPTV-приставка қосылып бапталды",
            "Жылдамдық өлшенді: қабылдау 487 Мбит/с, беру 492 Мбит/с",
            "Қызметтердің жұмысы көрсетілді, қауіпсіз пайдалану бойынша кеңес берілді",
        ],
        "equipment": [
            (
                "Оптикалық терминал (ONT)",
                "Huawei EchoLife HG8245X6",
                "48575443A1B2C3D4",
                "1",
                "дана",
            ),
            ("IPTV-приставка", "Kaon KSTB6077", "KA24B0019283", "1", "дана"),
            ("IPTV-приставка", "Kaon KSTB6077", "KA24B0019377", "1", "дана"),
            ("FTTH оптикалық кабелі, 1 талшық", "", "", "18", "м"),
            ("Кабель-арна 20×10 мм", "", "", "6.5", "м"),
        ],
        "captions": [
            "Жұмысқа дейінгі қабаттық қалқан",
            "Орнату орны жұмысқа дейін",
            "Кабель-арна тартылды",
            "ONT орнатылып қосылды",
            "IPTV-приставка қосылды",
            "Жұмыс орны жиналды",
        ],
        "remarks": "Кабель-арнаны есік жақтауының үстінен жүргізу өтінілді, орындалды.",
    },
    "en": {
        "act_number": "AVR-2025-000125",
        "kind": "completion",
        "place": "Almaty",
        "issuer": {
            "legal_name": "Dala Telecom Service LLP",
            "address": "150 Abay Ave, office 12, Almaty",
        },
        "site": "Apt 31, bldg 58, Samal-2, Almaty",
        "services": ["Home internet 500 Mbit/s (GPON)", "IPTV, 2 set-top boxes"],
        "works": [
            "Optical cable laid from the floor panel to the flat (18 m) in a cable duct",
            "Optical network terminal (ONT) installed and connected, Wi-Fi 2.4/5 GHz set up",
            "Two IPTV set-top boxes connected and set up",
            "Speed measured: 487 Mbit/s down, 492 Mbit/s up",
            "Services demonstrated, advice on safe use given",
        ],
        "equipment": [
            (
                "Optical network terminal (ONT)",
                "Huawei EchoLife HG8245X6",
                "48575443A1B2C3D4",
                "1",
                "pcs",
            ),
            ("IPTV set-top box", "Kaon KSTB6077", "KA24B0019283", "1", "pcs"),
            ("IPTV set-top box", "Kaon KSTB6077", "KA24B0019377", "1", "pcs"),
            ("FTTH optical cable, 1 fibre", "", "", "18", "m"),
            ("Cable duct 20×10 mm", "", "", "6.5", "m"),
        ],
        "captions": [
            "Floor panel before work",
            "Installation spot before work",
            "Cable duct laid",
            "ONT installed and connected",
            "IPTV box connected",
            "Work area cleaned",
        ],
        "remarks": "",
    },
}


def _snapshot(language: str, photo_hashes: Sequence[str]) -> dict[str, Any]:
    text = _TEXT[language]
    customer_name, technician_name = _PEOPLE[language]
    index = {"ru": 2, "kk": 3, "en": 4}[language]
    answers = _ANSWERS[language]
    return {
        "version": 1,
        "act_number": text["act_number"],
        "kind": text["kind"],
        "language": language,
        "place": text["place"],
        "act_date": "2025-03-12",
        "issuer": {
            "legal_name": text["issuer"]["legal_name"],
            "tax_id": "180940012345",
            "tax_id_kind": "bin",
            "address": text["issuer"]["address"],
            "phone": "+7 727 300 00 00",
        },
        "work_order": {
            "number": "НР-2025-004812" if language != "en" else "WO-2025-004812",
            "type": "installation",
            "requested_services": text["services"],
        },
        "customer": {"name": customer_name, "phones": ["+7 701 555 12 34"]},
        "acceptor": {"name": customer_name},
        "site": {"address": text["site"]},
        "technician": {"name": technician_name, "employee_no": "004217"},
        "agreed_window": {"start": "2025-03-12T10:00:00+05:00", "end": "2025-03-12T12:00:00+05:00"},
        "arrived_at": "2025-03-12T10:12:00+05:00",
        "finished_at": "2025-03-12T11:48:00+05:00",
        "works_performed": text["works"],
        "equipment": [
            {"name": name, "model": model, "serial": serial, "quantity": quantity, "unit": unit}
            for name, model, serial, quantity, unit in text["equipment"]
        ],
        "checklist": [
            {
                "step_id": step_id,
                "label": labels[index - 2],
                "answer": answers.get(step_id, _YES[language]),
                "answered_at": f"2025-03-12T{8 + minute // 60:02d}:{minute % 60:02d}:00+05:00",
            }
            for step_id, minute, *labels in _STEPS
        ],
        "photos": [
            {
                "sha256": sha256,
                "caption": caption,
                "taken_at": f"2025-03-12T{10 if n < 2 else 11}:{(16 + n * 9) % 60:02d}:00+05:00",
            }
            for n, (sha256, caption) in enumerate(zip(photo_hashes, text["captions"], strict=True))
        ],
        "customer_remarks": text["remarks"],
        "verify_url": f"https://naryad.example.kz/verify/acts/7f3c2a9e4b1d{index}",
    }


if __name__ == "__main__":
    main()
