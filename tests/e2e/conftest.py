"""Browser tests of the dashboard: a real ``cityhub demo`` (Seoul, Tokyo, Beijing on a fresh
SQLite file) on a free port of 127.0.0.1, and the system's Chromium driven by Playwright.

A missing Chromium is a failure, not a skip: the dashboard is only tested in a real browser.
Set CITYHUB_CHROMIUM to use another executable.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.scenarios.test_serve import cityhub_env, free_port

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "src" / "cityhub" / "dashboard" / "messages"
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
LANGUAGES = ("en", "ja", "ko", "zh-Hans")
START_TIMEOUT = 240.0


@dataclass
class DemoHub:
    """A running ``cityhub demo`` and its output so far."""

    process: subprocess.Popen[str]
    port: int
    output: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _pump(stream: Any, lines: queue.Queue[str | None], keep: list[str]) -> None:
    for line in stream:
        keep.append(line)
        lines.put(line)
    lines.put(None)


@pytest.fixture(scope="session")
def demo_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    """``cityhub demo`` on a free port, waited for until it prints its banner (seeded)."""
    workdir = tmp_path_factory.mktemp("demo-hub")
    port = free_port()
    env = cityhub_env(f"sqlite:///{workdir / 'demo.db'}")
    process = subprocess.Popen(
        [sys.executable, "-m", "cityhub", "demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    hub = DemoHub(process, port)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines, hub.output), daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("cityhub demo did not start in time:\n" + "".join(hub.output))
            if line is None:
                pytest.fail("cityhub demo exited:\n" + "".join(hub.output))
            if "Try:" in line:
                break
        yield hub
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def chromium_executable() -> str:
    candidate = (
        os.environ.get("CITYHUB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    if not Path(candidate).is_file():
        pytest.fail(
            f"Chromium is missing ({candidate}): install it (apt-get install chromium) "
            "or set CITYHUB_CHROMIUM; the dashboard tests need a real browser"
        )
    return candidate


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while
    it lives, which async tests of later modules must not find."""
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=chromium_executable(), args=["--no-sandbox"]
    )
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) whose language is English."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def catalogs() -> dict[str, dict[str, Any]]:
    return {
        lang: json.loads((MESSAGES / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
