"""Golden-set items: load, validate, and resolve gold sources against the documents in the index.

The format (one JSON object per line; blank lines and lines starting with // are skipped):
  id, lang ("zh"|"en"), question, type, answerable (true|false)   — required
  gold_sources  document ids or file names (corpus file or the original seed file)
  gold_quotes   verbatim substrings of the corpus that answer the question
  key_facts     a list of facts, each a list of acceptable variants (any language)
  must_not_say  strings a good answer never contains (an injected phrase, an invented figure)
  withhold      verbatim substrings of the passages that answer the question; for this item those passages
                (and their translations) are left out of retrieval, so the right answer becomes a refusal
  ideal         what a good answer says, in words (the LLM judge's rubric compares against it)
  profile       who asks: sme, park, official or consultant (answers put first what they can act on)
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..schema import Chunk, SourceInfo
from ..text import collapse_ws

REQUIRED = ("id", "lang", "question", "type", "answerable")
LANGS = ("zh", "en")
# The question types of evals/golden.jsonl; a user's own set may use others.
TYPES = (
    "factual",
    "advice",
    "comparison",
    "multi_doc",
    "mixed",
    "false_premise",
    "unanswerable",
    "injection",
    "fake_citation",
    "long_input",
    "garbage",
)


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
    must_not_say: tuple[str, ...] = ()
    withhold: tuple[str, ...] = ()
    ideal: str = ""
    profile: str | None = None  # who asks (client questions): sme, park, official, consultant
    unknown_sources: tuple[str, ...] = field(default=(), compare=False)

    def cross_lingual(self, languages: dict[str, tuple[str, ...]]) -> bool:
        """True when no gold document is written in the question's language."""
        langs = [languages.get(s, ()) for s in self.gold_sources]
        return bool(langs) and all(self.lang not in ls for ls in langs)


def _strings(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _facts(row: dict[str, Any], where: str) -> tuple[tuple[str, ...], ...]:
    value = row.get("key_facts") or []
    if not isinstance(value, list):
        raise DatasetError(f"{where}: key_facts must be a list of lists of variants")
    facts = []
    for fact in value:
        variants = [fact] if isinstance(fact, str) else fact
        if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
            raise DatasetError(f"{where}: each key fact must be a non-empty list of strings, got {fact!r}")
        facts.append(tuple(variants))
    return tuple(facts)


def parse_item(row: Any, where: str) -> Item:
    """One validated item from one parsed JSON line; `where` ("file:line") prefixes every error."""
    if not isinstance(row, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(row).__name__}")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise DatasetError(f"{where}: missing field(s) {', '.join(missing)}")
    if row["lang"] not in LANGS:
        raise DatasetError(f"{where}: lang must be one of {', '.join(LANGS)}, got {row['lang']!r}")
    if not isinstance(row["answerable"], bool):
        raise DatasetError(f"{where}: answerable must be true or false, got {row['answerable']!r}")
    if not isinstance(row["question"], str):
        raise DatasetError(f"{where}: question must be a string")
    return Item(
        id=str(row["id"]),
        lang=row["lang"],
        question=row["question"],
        type=str(row["type"]),
        answerable=row["answerable"],
        gold_sources=_strings(row, "gold_sources", where),
        gold_quotes=_strings(row, "gold_quotes", where),
        key_facts=_facts(row, where),
        must_not_say=_strings(row, "must_not_say", where),
        withhold=_strings(row, "withhold", where),
        ideal=str(row.get("ideal") or ""),
        profile=str(row["profile"]) if row.get("profile") else None,
    )


def load_dataset(path: Path) -> list[Item]:
    """Read a JSONL golden set; malformed lines are errors that name the line."""
    if not path.is_file():
        raise DatasetError(f"dataset not found: {path}")
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg})") from exc
        item = parse_item(row, where)
        if item.id in seen:
            raise DatasetError(f"{where}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = number
        items.append(item)
    if not items:
        raise DatasetError(f"{path.name}: no items")
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


def withheld_chunks(item: Item, chunks: Sequence[Chunk]) -> frozenset[str]:
    """Ids of the chunks an item withholds: those holding one of its `withhold` strings, and their parallels."""
    if not item.withhold:
        return frozenset()
    wanted = [collapse_ws(w) for w in item.withhold]
    hit = {c.chunk_id for c in chunks if any(w in collapse_ws(c.text) for w in wanted)}
    hit |= {c.parallel_id for c in chunks if c.chunk_id in hit and c.parallel_id}
    hit |= {c.chunk_id for c in chunks if c.parallel_id in hit}
    return frozenset(hit)


def missing_quotes(items: Sequence[Item], texts: Iterable[str]) -> list[tuple[str, str]]:
    """(item id, quote) for every gold quote that is not a verbatim substring of any of `texts`."""
    corpus = list(texts)
    return [(item.id, q) for item in items for q in item.gold_quotes if not any(q in t for t in corpus)]
