"""One server for the page and the OpenAI-compatible API: FastAPI with /v1 beside the Gradio page at /.

`create` builds the index (if needed), warms the models and assembles the page; `launch` serves it with
uvicorn on 127.0.0.1 unless told otherwise, with Gradio's login when a users file is configured, or the
user named by a trusted reverse proxy's header.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..auth import Access
from ..config import Settings
from .layout import ExtraTab, theme

if TYPE_CHECKING:
    import gradio as gr

    from ..core import Advisor
    from ..knowledge import KnowledgeBases


@dataclass
class WebApp:
    """The page and everything served beside it."""

    demo: gr.Blocks
    bases: KnowledgeBases
    access: Access
    settings: Settings


@dataclass
class Running:
    """A server started with `launch(block=False)`: its address, and `close()` to stop it."""

    url: str
    server: Any
    thread: threading.Thread

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def prepare_temp_dir(settings: Settings) -> Path:
    """The folder Gradio receives uploads in: under HOME, owner-only, emptied of any earlier run's files."""
    temp = settings.web_temp_dir
    if temp.exists():
        shutil.rmtree(temp)
    temp.mkdir(parents=True)
    os.chmod(temp, 0o700)
    os.environ["GRADIO_TEMP_DIR"] = str(temp)  # read by Gradio when the Blocks and the server are built
    return temp


def page_secret(settings: Settings) -> str:
    """A random key kept in HOME (0600): browsers' ids in their local storage stay readable across restarts."""
    path = settings.home / "web-secret"
    if not path.is_file():
        settings.home.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker on the same HOME made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(16))
    return path.read_text().strip()


def create(settings: Settings, advisor: Advisor | None = None, extra_tabs: Sequence[ExtraTab] = ()) -> WebApp:
    """Build (if needed) the index, warm the models and return the queued page, ready to launch."""
    from ..conversations import ConversationStore
    from ..core import Advisor
    from ..feedback import FeedbackStore
    from ..knowledge import KnowledgeBases
    from .app import build_app

    prepare_temp_dir(settings)
    advisor = advisor or Advisor(settings)
    advisor.ensure_index()
    advisor.warm_up(concurrent=True)  # several users at once: torch for their questions (embed/bert.py)
    bases = KnowledgeBases(settings, advisor)
    access = Access(settings)
    demo = build_app(
        bases,
        ConversationStore(settings.conversations_path),
        FeedbackStore(settings.feedback_path),
        access,
        extra_tabs,
        page_secret(settings),
    )
    demo.queue(max_size=settings.web_queue_size, default_concurrency_limit=settings.web_concurrency)
    return WebApp(demo, bases, access, settings)


def asgi(app: WebApp) -> Any:
    """The FastAPI application: /v1 (the OpenAI-compatible API) first, then the page at /.

    show_error stays off: only gr.Error messages, which the handlers write for people, reach a client.
    """
    import fastapi
    import gradio as gr

    from .app import CSS_PATH
    from .openai_api import router

    access = app.access
    server = fastapi.FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    server.include_router(router(app.bases, access, app.settings))
    login: dict[str, Any] = {}
    if access.mode == "password":
        login["auth"] = access.check_password
    elif access.mode == "header":
        login["auth_dependency"] = lambda request: access.user_from_request(
            request.client.host if request.client else None, request.headers
        )
    return gr.mount_gradio_app(
        server,
        app.demo,
        path="/",
        theme=theme(),
        css=CSS_PATH.read_text(encoding="utf-8"),
        max_file_size=f"{app.settings.max_upload_mb}mb",
        footer_links=["api"],
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        root_path=os.environ.get("GRADIO_ROOT_PATH") or None,
        **login,
    )


def launch(app: WebApp, host: str, port: int, *, block: bool = True) -> Running | None:
    """Serve the page and the API on host:port (127.0.0.1 by default); analytics are off by the caller's env.

    Blocks until the server stops; with `block=False` returns at once with a handle to close it.
    """
    import uvicorn

    config = uvicorn.Config(asgi(app), host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if block:
        server.run()
        return None
    thread = threading.Thread(target=server.run, daemon=True, name="advisor-web")
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web server did not start on {host}:{port}")
        time.sleep(0.05)
    return Running(f"http://{host}:{port}/", server, thread)
