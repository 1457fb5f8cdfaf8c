"""Client/server mode: the same index and answers against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server in a child process, stopped when the module's tests are done."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = _free_port()
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


def test_ingest_and_ask_through_a_chroma_server(chroma_url: str, tmp_path: Path, corpus_copy: Path) -> None:
    settings = Settings(home=tmp_path / "a", corpus_dir=corpus_copy, chroma_url=chroma_url)
    first = Advisor(settings, embedders=[HashEmbedder()])
    report = first.ingest()
    assert report.embedded == report.chunks > 30
    assert not (tmp_path / "a" / "index" / "chroma").exists()  # nothing stored locally but the records

    # A second machine (another ADVISOR_HOME) sees the same index without ingesting anything.
    second = Advisor(Settings(home=tmp_path / "b", chroma_url=chroma_url), embedders=[HashEmbedder()])
    assert second.index.exists()
    assert {s.doc_id for s in second.sources()} >= {"cluster-vs-agglomeration", "vcm-industrial-cluster"}
    answer = second.ask("产业集聚和产业集群有什么区别？", mode="bm25")
    assert answer.passages and answer.passages[0].chunk.doc_id == "cluster-vs-agglomeration"

    # Incremental re-ingest works the same as with a local database.
    (corpus_copy / "industrial-ecosystem-chain-operations.md").unlink()
    (corpus_copy / "industrial-ecosystem-chain-operations.en.md").unlink()  # and its translation
    again = first.ingest()
    assert again.embedded == 0 and again.synced[0].deleted == 32 and not again.failed


def test_a_malformed_chroma_url_is_a_clear_error(tmp_path: Path) -> None:
    advisor = Advisor(Settings(home=tmp_path, chroma_url="localhost:8000"), embedders=[HashEmbedder()])
    with pytest.raises(ValueError, match="http://host:port"):
        advisor.index.exists()
