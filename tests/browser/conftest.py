"""One real web server per session (real models, real Chroma, real Gradio on 127.0.0.1), and a browser."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.conftest import CORPUS, REPO, models_dir

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@dataclass
class LiveServer:
    url: str
    settings: Any
    advisor: Any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(real_advisor: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real page over a copy of the session's real index (so uploads here touch no other test)."""
    from advisor.config import Settings
    from advisor.core import Advisor
    from advisor.web.app import create, launch

    home = tmp_path_factory.mktemp("web-home")
    shutil.copytree(real_advisor.settings.index_dir, home / "index")
    settings = Settings(home=home, models_dir=models_dir(), corpus_dir=CORPUS, host="127.0.0.1")
    advisor = Advisor(settings, embedders=real_advisor.embedders)
    demo = create(settings, advisor)
    port = _free_port()
    launch(demo, settings, "127.0.0.1", port, block=False)
    yield LiveServer(f"http://127.0.0.1:{port}/", settings, advisor)
    demo.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Outside:
    """Requests the page tried to send anywhere but 127.0.0.1 (all of them blocked)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def route(self, route: Any) -> None:
        if urlparse(route.request.url).hostname in LOCAL_HOSTS or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.urls.append(route.request.url)
            route.abort()


def open_page(browser: Any, server: LiveServer, locale: str) -> tuple[Any, Outside]:
    context = browser.new_context(locale=locale, viewport={"width": 1360, "height": 900})
    outside = Outside()
    context.route("**/*", outside.route)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.wait_for_selector("#question textarea")
    title = "产业战略顾问" if locale.startswith("zh") else "Industrial Strategy Advisor"
    # The interface language is set from Accept-Language once the page has loaded.
    page.wait_for_function("t => document.querySelector('#advisor-header')?.innerText.includes(t)", arg=title)
    return page, outside


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
