"""Sample acts (JSON + small generated images) for checking the layout by eye."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SAMPLE_ACT = SAMPLES_DIR / "act_sample.json"
SAMPLE_ACTS = {
    "ru": SAMPLE_ACT,
    "kk": SAMPLES_DIR / "act_sample_kk.json",
    "en": SAMPLES_DIR / "act_sample_en.json",
}
