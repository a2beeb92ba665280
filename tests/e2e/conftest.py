"""A real UI server and a real headless Chromium for the end-to-end tests.

The server is started as planners start it (`python -m sim.ui --port <free port>`), once for
the whole test session. Chromium is Debian's (`make` installs it); without it these tests fail
rather than skip, so a missing browser cannot pass CI silently.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim.report import CHROMIUM, CHROMIUM_ARGS  # the same browser and flags that print bericht.pdf

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "results" / "ui"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """(base address, process) of a UI server on a free port; stopped at the end."""
    port = free_port()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SCREENSHOTS / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "sim.ui", "--port", str(port)], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, "the UI server stopped while starting (results/ui/server.log)"
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            assert time.monotonic() < deadline, "the UI server did not answer within 90 s"
            time.sleep(0.5)
    yield url, process
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the UI's end-to-end tests need Debian's chromium (`make` installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
