"""Golden-set items: load, validate, and resolve gold sources against the documents in the index."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..schema import SourceInfo

REQUIRED = ("id", "lang", "question", "type", "answerable")


class DatasetError(ValueError):
    """A dataset file that cannot be used; the message names the line and the problem."""


@dataclass(frozen=True)
class Item:
    """One golden question."""

    id: str
    lang: str
    question: str
    type: str
    answerable: bool
    gold_sources: tuple[str, ...] = ()
    gold_quotes: tuple[str, ...] = ()
    key_facts: tuple[tuple[str, ...], ...] = ()
    unknown_sources: tuple[str, ...] = field(default=(), compare=False)

    def cross_lingual(self, languages: dict[str, tuple[str, ...]]) -> bool:
        """True when no gold document is written in the question's language."""
        langs = [languages.get(s, ()) for s in self.gold_sources]
        return bool(langs) and all(self.lang not in ls for ls in langs)


def load_dataset(path: Path) -> list[Item]:
    """Read a JSONL golden set; malformed lines are errors that name the line."""
    if not path.is_file():
        raise DatasetError(f"dataset not found: {path}")
    items: list[Item] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path.name}:{number}: not valid JSON ({exc.msg})") from exc
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise DatasetError(f"{path.name}:{number}: missing field(s) {', '.join(missing)}")
        item_id = str(row["id"])
        if item_id in seen:
            raise DatasetError(f"{path.name}:{number}: duplicate id {item_id!r}")
        seen.add(item_id)
        items.append(
            Item(
                id=item_id,
                lang=str(row["lang"]),
                question=str(row["question"]),
                type=str(row["type"]),
                answerable=bool(row["answerable"]),
                gold_sources=tuple(str(s) for s in row.get("gold_sources") or ()),
                gold_quotes=tuple(str(q) for q in row.get("gold_quotes") or ()),
                key_facts=tuple(tuple(str(v) for v in variants) for variants in row.get("key_facts") or ()),
            )
        )
    return items


def resolve_sources(items: Sequence[Item], sources: Iterable[SourceInfo]) -> list[Item]:
    """Map gold sources named by document id, corpus file or original file name to document ids.

    An unknown name is a warning, not an error: source metrics skip it, quote-based metrics still count.
    """
    names: dict[str, str] = {}
    for info in sources:
        for name in (info.doc_id, Path(info.path).name, Path(info.path).stem, info.source_file):
            if name:
                names[name] = info.doc_id
    out: list[Item] = []
    for item in items:
        resolved = [names[n] for n in item.gold_sources if n in names]
        unknown = tuple(n for n in item.gold_sources if n not in names)
        if unknown:
            warnings.warn(f"{item.id}: unknown gold source(s) {', '.join(unknown)}", stacklevel=2)
        out.append(replace(item, gold_sources=tuple(dict.fromkeys(resolved)), unknown_sources=unknown))
    return out
