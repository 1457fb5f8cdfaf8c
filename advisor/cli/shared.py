"""What every command shares: settings, the core, progress bars, clear failures, common options."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..config import Settings
    from ..core import Advisor


def offline_environment() -> None:
    """No hub downloads, no telemetry, no analytics: set before any model library is imported."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(name, value)


def settings(**overrides: Any) -> Settings:
    from pydantic import ValidationError

    from ..config import Settings

    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        fail(f"invalid settings: {exc}")
        raise  # unreachable
    if settings.kb and not (settings.kb_dir / "kb.json").is_file():
        fail(f"no knowledge base named {settings.kb!r}: create it with `advisor kb create {settings.kb}`")
    return settings


KbOption = Annotated[
    str | None,
    typer.Option(
        "--kb",
        help="The knowledge base to use (`advisor kb list`); default: the bundled corpus (ADVISOR_KB).",
    ),
]


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"advisor: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def progress_bars() -> Iterator[Callable[[int, str], Callable[[int], None]]]:
    """A factory of tqdm bars on stderr for long work; closed when the block ends."""
    from tqdm import tqdm

    bars: list[Any] = []

    def factory(total: int, label: str) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, leave=True, dynamic_ncols=True)
        bars.append(bar)
        return bar.update

    try:
        yield factory
    finally:
        for bar in bars:
            bar.close()


def open_advisor(settings: Settings) -> Advisor:
    from ..core import Advisor

    return Advisor(settings)


def ensure_index(advisor: Advisor) -> None:
    if advisor.index.exists():
        return
    typer.echo("advisor: no index yet — building it from corpus/ first (one time, about a minute).", err=True)
    with progress_bars() as progress:
        report = advisor.ensure_index(progress)
    if report is not None:
        print_failures(report.failed)


def print_failures(failed: list[str]) -> None:
    for line in failed:
        typer.echo(f"  skipped {line}", err=True)


BackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="Who writes the answer: extractive (default, offline), openai (any OpenAI-compatible server) "
        "or ollama. Overrides ADVISOR_LLM_BACKEND; the model is set by ADVISOR_LLM_MODEL/ADVISOR_LLM_BASE_URL.",
    ),
]


ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Who is asking: sme (a small or medium firm), park (a park operator), official (county/city "
        "government) or consultant. Puts first what that client can act on; without it, the answer addresses "
        "whoever the question implies.",
    ),
]


def check_profile(profile: str | None) -> None:
    from ..answer.roles import PROFILES

    if profile is not None and profile not in PROFILES:
        fail(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")


def check_backend(backend: str | None) -> None:
    from ..config import BACKENDS

    if backend is not None and backend not in BACKENDS:
        fail(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
