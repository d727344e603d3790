"""System programs that some tests need (Chromium, PostgreSQL).

On a developer's machine without the program the test is skipped with the reason; in CI
(``MARSRELAY_CI=1``, which ``.ci/run`` sets after installing them) a missing program fails the
test, so CI always proves what these tests check.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "in_ci", "require_program"]

#: Debian's Chromium (``apt-get install chromium``); Playwright drives it by executable path.
CHROMIUM = "/usr/bin/chromium"
#: Its flags in the tests: headless, no sandbox (containers), nothing fetched in the background.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def in_ci() -> bool:
    """Whether the tests run in CI (``MARSRELAY_CI=1``)."""
    return os.environ.get("MARSRELAY_CI", "") == "1"


def require_program(program: str, install: str) -> str:
    """The path of ``program`` (a name on PATH or an absolute path); skips the test with the
    reason when it is missing, or fails it under ``MARSRELAY_CI=1``."""
    found = shutil.which(program) or (program if Path(program).is_file() else None)
    if found:
        return found
    reason = f"{program} not found (install it with: {install})"
    if in_ci():
        pytest.fail(f"{reason}; MARSRELAY_CI=1 requires it")
    pytest.skip(reason)
