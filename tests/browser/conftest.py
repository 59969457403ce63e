"""Browser fixtures: Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.engine_walks import COMPARED, SEED
from tests.integration.conftest import build, test_sessions  # noqa: F401
from tests.integration.storage.conftest import s3_emulator  # noqa: F401

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium tries the network at start-up, which this sandbox refuses.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the session."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        await chromium.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (kept by CI as test artefacts)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def client(live_server: str) -> Any:  # the builder fixture wants a started app
    """The live server stands in for the in-process client."""
    return live_server


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The engine cross-check's figures, when it ran and agreed."""
    compared = config.stash.get(COMPARED, {})
    if not compared:
        return
    sequences, states, validations = (sum(row[i] for row in compared.values()) for i in range(3))
    terminalreporter.write_line(
        f"engine cross-check (seed {SEED}): {sequences} sequences over {len(compared)} "
        f"templates ({', '.join(compared)}), {states} states and {validations} answer "
        "validations equal in Python and engine.js"
    )
