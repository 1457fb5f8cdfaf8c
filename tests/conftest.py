"""Shared fixtures: every test gets its own ADVISOR_HOME; real-model tests share one model cache and one index."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
GOLDEN = REPO / "evals" / "retrieval_check.jsonl"  # the stable foundation check; golden.jsonl grows
SEEDS = REPO.parent / "shared" / "seeds"

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)


def models_dir() -> Path:
    """The model cache shared by all tests (built once by `advisor setup`, or on first use)."""
    return Path(os.environ.get("ADVISOR_TEST_MODELS_DIR") or REPO / ".advisor-home" / "models")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ADVISOR_HOME per test, fixed seeds, no stray LLM configuration from the environment."""
    home = tmp_path / "home"
    monkeypatch.setenv("ADVISOR_HOME", str(home))
    monkeypatch.setenv("ADVISOR_MODELS_DIR", str(models_dir()))
    for name in ("ADVISOR_CONFIG", "ADVISOR_LLM_BACKEND", "ADVISOR_CHROMA_URL", "ADVISOR_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    random.seed(0)
    np.random.seed(0)
    return home


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the corpus, for tests that change documents."""
    target = tmp_path / "corpus"
    target.mkdir()
    for path in CORPUS.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


@pytest.fixture(scope="session")
def real_advisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real thing, built once per session: bundled e5 + USE, real Chroma on disk, the real corpus."""
    from advisor.config import Settings
    from advisor.core import Advisor

    home = tmp_path_factory.mktemp("real-home")
    advisor = Advisor(Settings(home=home, models_dir=models_dir()))
    advisor.ingest()
    advisor.warm_up()
    yield advisor


@pytest.fixture(scope="session")
def corpus_advisor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real corpus in a real Chroma index with the hash embedder: for citing passages, not for ranking them."""
    from advisor.config import Settings
    from advisor.core import Advisor
    from advisor.embed.fake import HashEmbedder

    advisor = Advisor(Settings(home=tmp_path_factory.mktemp("corpus-home")), embedders=[HashEmbedder()])
    advisor.ingest()
    yield advisor


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` server in a child process, shared by the session's server-mode tests."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [chroma, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma server did not start: {(data / 'server.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
