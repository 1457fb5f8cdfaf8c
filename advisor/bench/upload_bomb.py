"""Upload a .docx zip bomb to a real `advisor serve` and record the server's peak memory around it.

    python -m advisor.bench.upload_bomb [--xml-mb 600] [--out bench/results/upload-bomb.json]

The bomb is a small .docx (under 1 MB) whose word/document.xml unpacks to `--xml-mb` MB. Before the upload
the server's peak-RSS mark is reset (`5` into /proc/<pid>/clear_refs), so VmHWM afterwards is the peak
reached while the upload was handled. The upload passes when that peak stays within 200 MB of the RSS the
server had just before it; the figures go to a JSON file in bench/results/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ALLOWED_GROWTH_MB = 200
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def make_bomb(path: Path, xml_mb: int) -> Path:
    """A .docx whose document.xml holds `xml_mb` MB of one repeated paragraph, written as a stream."""
    paragraph = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode())
            block = paragraph * 1024
            for _ in range(xml_mb * 1024 * 1024 // len(block)):
                xml.write(block)
            xml.write(b"</w:body></w:document>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    return path


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB, from /proc/<pid>/status."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0])
    return out


def reset_peak(pid: int) -> bool:
    """Set the process's VmHWM back to its current RSS (Linux ≥ 4.0); False where that is not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("advisor serve exited before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise RuntimeError(f"advisor serve was not ready within {timeout_s:.0f} s")


def run(xml_mb: int, out: Path, home: Path | None) -> dict[str, Any]:
    """Start a server, warm it with one question, upload the bomb, and return the figures."""
    from gradio_client import Client, handle_file

    from ..config import Settings

    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="advisor-bomb-"))
    server_home = home or work / "home"
    if home is None and settings.index_dir.is_dir():
        shutil.copytree(settings.index_dir, server_home / "index")  # reuse the built index: no re-embedding
    port = _free_port()
    env = {
        **os.environ,
        "ADVISOR_HOME": str(server_home),
        "ADVISOR_MODELS_DIR": str(settings.model_cache),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(url, process, timeout_s=600)
        client = Client(url, verbose=False, download_files=False)
        client.predict("产业集聚和产业集群有什么区别？", "zh", api_name="/ask")  # steady state first
        bomb = make_bomb(work / "quarterly-report.docx", xml_mb)
        bomb_kb = round(bomb.stat().st_size / 1024)
        before = memory_kb(process.pid)
        peak_reset = reset_peak(process.pid)
        started = time.perf_counter()
        status, *_ = client.predict([handle_file(str(bomb))], "en", api_name="/upload")
        seconds = time.perf_counter() - started
        after = memory_kb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    growth_mb = (after["VmHWM"] - before["VmRSS"]) / 1024
    result = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "bomb": {"file_kb": bomb_kb, "xml_mb": xml_mb},
        "rss_before_upload_mb": round(before["VmRSS"] / 1024, 1),
        "peak_before_upload_mb": round(before["VmHWM"] / 1024, 1),
        "peak_during_upload_mb": round(after["VmHWM"] / 1024, 1),
        "rss_after_upload_mb": round(after["VmRSS"] / 1024, 1),
        "peak_growth_mb": round(growth_mb, 1),
        "peak_reset_before_upload": peak_reset,
        "allowed_growth_mb": ALLOWED_GROWTH_MB,
        "passed": growth_mb <= ALLOWED_GROWTH_MB,
        "upload_seconds": round(seconds, 2),
        "status": status,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return result


def main() -> None:
    """Command line: run once, print the figures, exit 1 when the peak grew by more than 200 MB."""
    from ..cli import offline_environment

    offline_environment()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xml-mb", type=int, default=600, help="MB of XML the bomb unpacks to (600)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/upload-bomb.json"))
    parser.add_argument(
        "--home", type=Path, default=None, help="ADVISOR_HOME for the server (default: a copy)"
    )
    args = parser.parse_args()
    result = run(args.xml_mb, args.out, args.home)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
