"""Load source files into Documents: corpus Markdown with YAML front matter, plain text, or a converted file.

.pdf, .docx and .html files are turned into text by `convert.py`, within the same limits as an upload.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import yaml

from ..schema import Document
from ..text import CJK_RANGES, cjk_count, detect_lang
from .convert import SUFFIXES, TEXT_SUFFIXES, ConversionCache, Converted, Limits
from .errors import ConvertError, LoadError

SUPPORTED_SUFFIXES = SUFFIXES
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_SLUG = re.compile(f"[^a-z0-9{CJK_RANGES}]+")
_CONVERSIONS = ConversionCache()


def slugify(name: str) -> str:
    """A stable, readable document id from a file name."""
    slug = _SLUG.sub("-", name.lower()).strip("-")
    return slug or "document"


def parse_document(text: str, path: Path, rel_path: str) -> Document:
    """Build a Document from file text; front matter (if any) supplies the metadata."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, object] = {}
    body = text
    offset = 0
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise LoadError(f"{rel_path}: front matter is not valid YAML ({exc}).") from exc
        if not isinstance(loaded, dict):
            raise LoadError(f"{rel_path}: front matter must be a mapping of fields.")
        meta = loaded
        body = text[match.end() :]
        offset = match.group(0).count("\n")
    if not body.strip():
        raise LoadError(f"{rel_path}: the document has no text.")

    titles_raw = meta.get("title")
    if isinstance(titles_raw, dict):
        titles = {str(k): str(v) for k, v in titles_raw.items()}
    elif titles_raw:
        titles = {detect_lang(str(titles_raw)): str(titles_raw)}
    else:
        first_line = next((ln.strip() for ln in body.splitlines() if ln.strip()), path.stem)
        title = first_line if len(first_line) <= 80 else path.stem
        titles = {detect_lang(title): title}

    languages_raw = meta.get("languages")
    if isinstance(languages_raw, list) and languages_raw:
        languages = tuple(str(x) for x in languages_raw)
    else:
        languages = ("zh",) if cjk_count(body) * 3 > len(body) * 0.5 else (detect_lang(body),)

    layout: Literal["single", "parallel"] = "parallel" if meta.get("layout") == "parallel" else "single"
    date = meta.get("date")
    return Document(
        doc_id=str(meta.get("id") or slugify(path.stem)),
        titles=titles,
        languages=languages,
        layout=layout,
        body=body,
        path=rel_path,
        body_line_offset=offset,
        source=str(meta.get("source") or ""),
        date=str(date) if date else None,
        kind=str(meta.get("kind") or "article"),
        source_file=str(meta.get("source_file") or path.name),
        excerpt_of=str(meta["excerpt_of"]) if meta.get("excerpt_of") else None,
        translation_of=str(meta["translation_of"]) if meta.get("translation_of") else None,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    )


def load_file(path: Path, root: Path | None = None, limits: Limits | None = None) -> Document:
    """Read one supported file into a Document; ConvertError (a LoadError) for a file that breaks a limit."""
    converted = _CONVERSIONS.convert(path, limits or Limits())
    if path.suffix.lower() in TEXT_SUFFIXES:
        text = converted.text
    else:
        if not converted.text.strip():
            raise ConvertError("err_no_text", name=path.name)
        text = _with_title(converted)
    return parse_document(text, path, _relative(path, root))


def _with_title(converted: Converted) -> str:
    """A converted file as document text: the title it names itself, if any, becomes front matter."""
    if not converted.title:
        return converted.text
    front = yaml.safe_dump({"title": converted.title}, allow_unicode=True).strip()
    return f"---\n{front}\n---\n{converted.text}"


def read_front_matter(path: Path, limit: int = 16 * 1024) -> dict[str, object]:
    """The YAML front matter of a Markdown file, read from its first bytes only; {} when it has none."""
    with path.open("rb") as handle:
        head = handle.read(limit).decode("utf-8", errors="ignore").replace("\r\n", "\n")
    match = _FRONT_MATTER.match(head.removeprefix("\ufeff"))
    if not match:
        return {}
    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        base = root if root.is_dir() else root.parent
        try:
            return str(Path(base.name) / path.resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return path.name


def iter_files(roots: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """(file, root) for every supported file under the roots, in a stable order; hidden files skipped."""
    for root in roots:
        if root.is_file():
            yield root, root
            continue
        for path in sorted(root.rglob("*")):
            rel_parts = path.relative_to(root).parts
            if (
                path.is_file()
                and path.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(p.startswith(".") for p in rel_parts)
            ):
                yield path, root
