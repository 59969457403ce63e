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
# The same acts as snapshot version 2 (reports/samples/generate_v2.py derives them).
SAMPLE_ACTS_V2 = {
    "ru": SAMPLES_DIR / "act_sample_v2.json",
    "kk": SAMPLES_DIR / "act_sample_v2_kk.json",
    "en": SAMPLES_DIR / "act_sample_v2_en.json",
}
