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
    from advisor.web.server import create, launch

    home = tmp_path_factory.mktemp("web-home")
    shutil.copytree(real_advisor.settings.index_dir, home / "index")
    settings = Settings(home=home, models_dir=models_dir(), corpus_dir=CORPUS, host="127.0.0.1")
    advisor = Advisor(settings, embedders=real_advisor.embedders)
    running = launch(create(settings, advisor), "127.0.0.1", _free_port(), block=False)
    assert running is not None
    yield LiveServer(running.url, settings, advisor)
    running.close()


TEAM = {"alice": "alice-password", "bob": "bob-password", "root": "root-password"}  # root is the admin
TEAM_KEY = "team-api-key"


def slow_model(request: Any) -> Any:
    """The team server's LLM: numbered answers written slowly (time to press Stop), plain suggestions."""
    from tests.fakes.openai_server import Reply

    if "<topics>" in request.prompt:
        return Reply("What about anchor firms?\nHow do suppliers take part?")
    if "Rewrite the follow-up question" in request.prompt:  # the condense prompt: it already stands alone
        return Reply(request.prompt.split("<question>")[-1].split("</question>")[0].strip())
    slow_model.count = getattr(slow_model, "count", 0) + 1  # type: ignore[attr-defined]
    number = slow_model.count  # type: ignore[attr-defined]
    text = f"Answer {number}: an industrial ecosystem is a network of firms that share what they make [1]."
    return Reply(text, chunk_delay_s=0.12)


@pytest.fixture(scope="session")
def team_server(real_advisor: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server as a team runs it: sign-in from a users file, API keys, and an LLM (a slow fake) writing."""
    from pydantic import SecretStr

    from advisor.auth import UserRecord, hash_password, write_users
    from advisor.config import Settings
    from advisor.core import Advisor
    from advisor.web.server import create, launch
    from tests.fakes.openai_server import FakeLLMServer

    home = tmp_path_factory.mktemp("team-home")
    shutil.copytree(real_advisor.settings.index_dir, home / "index")
    users = home / "users.json"
    write_users(users, {name: UserRecord(hash_password(pw), name == "root") for name, pw in TEAM.items()})
    with FakeLLMServer(responder=slow_model) as llm:
        settings = Settings(
            home=home,
            models_dir=models_dir(),
            corpus_dir=CORPUS,
            users_file=users,
            api_keys=SecretStr(TEAM_KEY),
            llm_backend="openai",
            llm_base_url=llm.openai_url,
            llm_model="fake-model",
        )
        advisor = Advisor(settings, embedders=real_advisor.embedders)
        running = launch(create(settings, advisor), "127.0.0.1", _free_port(), block=False)
        assert running is not None
        yield LiveServer(running.url, settings, advisor)
        running.close()


def sign_in(browser: Any, server: LiveServer, user: str, password: str | None = None) -> Any:
    """A page of the team server, signed in on Gradio's own login form."""
    context = browser.new_context(locale="en-US", viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(server.url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password or TEAM[user])
    page.get_by_role("button", name="Login").click()
    return page


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
