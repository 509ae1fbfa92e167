"""Browser tests: Playwright driving Debian's chromium (never a downloaded browser).

The ``browser`` and ``page`` fixtures live in ``tests/conftest.py`` so that the whole session shares one
Playwright instance (a second sync Playwright in the same thread refuses to start)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("TOTALCAP_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
