"""Exports: one Document model rendered to Markdown, DOCX and PDF (the diagnosis report, conversations).

Build a `Document` from `model`, then `render(doc)` gives every file's bytes and `write(files, folder)`
puts them on disk atomically: a failure leaves no half-written file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .model import Document

FORMATS = ("md", "docx", "pdf")


def render(doc: Document, stem: str, formats: Sequence[str] = FORMATS) -> dict[str, bytes]:
    """File name → bytes for each format, plus the document's figures as PNG files (Markdown links to them)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown export format(s): {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    files: dict[str, bytes] = {}
    if "md" in formats:
        from .markdown import to_markdown

        files[f"{stem}.md"] = to_markdown(doc).encode("utf-8")
        files.update({figure.filename: figure.png for figure in doc.figures()})
    if "docx" in formats:
        from .docx import to_docx

        files[f"{stem}.docx"] = to_docx(doc)
    if "pdf" in formats:
        from .pdf import to_pdf

        files[f"{stem}.pdf"] = to_pdf(doc)
    return files


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(files: Mapping[str, bytes], folder: Path) -> list[Path]:
    """Write rendered files into `folder`, each one atomically; returns the paths written."""
    paths = []
    for name, data in files.items():
        path = folder / name
        write_atomic(path, data)
        paths.append(path)
    return paths
