"""Split Documents into Chunks: paragraph- and sentence-aware, stubs merged, parallel sections aligned."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..schema import Chunk, Document, Lang
from ..text import collapse_ws, detect_lang, split_sentences
from .align import align_lengths

# Below these lengths a paragraph is a heading or list stub and is merged into its neighbours; above the
# maxima a paragraph is cut at sentence ends (multilingual-e5 reads at most 512 tokens).
MIN_CHARS: dict[str, int] = {"zh": 60, "en": 160}
MAX_CHARS: dict[str, int] = {"zh": 450, "en": 1800}
_CONTINUES = re.compile(r"[:：;；,，、]\s*$")  # a list intro or a list item: the thought goes on
_SENTENCE_FINAL = re.compile(r"[。！？!?.”\"」』)）]\s*$")


@dataclass(frozen=True)
class Unit:
    """A non-empty line of a body: the smallest piece we keep verbatim."""

    start: int  # offset of the first non-space character in the body
    end: int  # offset just after the last non-space character
    line: int  # 0-based line index in the body
    text: str
    lang: Lang


def body_units(body: str) -> list[Unit]:
    """Every non-empty line of `body` with its offsets and language."""
    units: list[Unit] = []
    offset = 0
    for index, line in enumerate(body.split("\n")):
        stripped = line.strip()
        if stripped:
            start = offset + (len(line) - len(line.lstrip()))
            units.append(Unit(start, start + len(stripped), index, stripped, detect_lang(stripped)))
        offset += len(line) + 1
    return units


def _is_heading(unit: Unit) -> bool:
    return len(unit.text) < MIN_CHARS[unit.lang] and not _SENTENCE_FINAL.search(unit.text)


def drop_header(units: Sequence[Unit]) -> list[Unit]:
    """Drop the leading title/date/source lines: the front matter already carries them."""
    index = 0
    while index < len(units) and _is_heading(units[index]) and index < 4:
        index += 1
    return list(units[index:]) if index < len(units) else list(units)


def group_units(units: Sequence[Unit]) -> list[list[Unit]]:
    """Merge headings, list intros and list items with their neighbours into paragraph groups."""
    groups: list[list[Unit]] = []
    buffer: list[Unit] = []
    for unit in units:
        if buffer and _length(buffer) + len(unit.text) > MAX_CHARS[unit.lang] and not _is_heading(buffer[-1]):
            groups.append(buffer)
            buffer = []
        buffer.append(unit)
        if (
            _length(buffer) >= MIN_CHARS[unit.lang]
            and not _is_heading(unit)
            and not _CONTINUES.search(unit.text)
        ):
            groups.append(buffer)
            buffer = []
    if buffer:
        # A trailing stub belongs to the paragraph before it ("结语" style endings stay with their text).
        if groups and _length(buffer) < MIN_CHARS[buffer[0].lang]:
            groups[-1].extend(buffer)
        else:
            groups.append(buffer)
    return groups


def _length(units: Sequence[Unit]) -> int:
    return sum(len(u.text) for u in units)


@dataclass(frozen=True)
class Span:
    """A verbatim slice of the body that becomes one chunk."""

    start: int
    end: int
    line_start: int
    line_end: int
    lang: Lang


def _span(units: Sequence[Unit], lang: Lang | None = None) -> Span:
    first, last = units[0], units[-1]
    if lang is None:
        lang = detect_lang(" ".join(u.text for u in units))
    return Span(first.start, last.end, first.line, last.line, lang)


def _cut_long(body: str, span: Span) -> list[Span]:
    """Cut a span longer than the maximum at sentence ends, keeping every piece a verbatim slice."""
    text = body[span.start : span.end]
    limit = MAX_CHARS[span.lang]
    if len(text) <= limit:
        return [span]
    pieces: list[Span] = []
    cursor = 0
    piece_start = 0
    for sentence in split_sentences(text):
        at = text.index(sentence, cursor)
        if at - piece_start > 0 and at + len(sentence) - piece_start > limit:
            pieces.append(_sub_span(body, span, piece_start, cursor))
            piece_start = at
        cursor = at + len(sentence)
    pieces.append(_sub_span(body, span, piece_start, len(text)))
    return pieces


def _sub_span(body: str, span: Span, a: int, b: int) -> Span:
    text = body[span.start : span.end]
    while a < b and text[a].isspace():
        a += 1
    line_start = span.line_start + text.count("\n", 0, a)
    line_end = span.line_start + text.count("\n", 0, b)
    return Span(span.start + a, span.start + b, line_start, line_end, span.lang)


def line_key(text: str) -> bytes:
    """A short fingerprint of a line, so remembering millions of lines for de-duplication costs little."""
    return hashlib.blake2b(collapse_ws(text).encode("utf-8"), digest_size=12).digest()


def claim_order(doc: Document) -> tuple[bool, int, str]:
    """Full documents claim their lines before excerpts, longer documents before shorter ones."""
    return (doc.excerpt_of is not None, -len(doc.body), doc.doc_id)


class TranslationError(ValueError):
    """A translation file that does not follow its original line for line."""


def split_document(
    doc: Document, seen: set[bytes] | None = None, translation: Document | None = None
) -> list[Chunk]:
    """Chunks of one document. Lines already in `seen` (exact duplicates from another document) are skipped.

    With `translation` (a file with `translation_of: <this doc>`), every chunk gets its translation as a
    parallel chunk: the same lines of the translation file, which follows the original line for line.
    """
    units = drop_header(body_units(doc.body))
    if seen is not None:
        units = [u for u in units if line_key(u.text) not in seen]
        seen.update(line_key(u.text) for u in units)
    if not units:
        return []
    pairs: list[tuple[Span, Span | None]] = []
    if doc.layout == "parallel":
        pairs = _parallel_spans(units)
    else:
        for group in group_units(units):
            pairs.extend((piece, None) for piece in _cut_long(doc.body, _span(group)))
    chunks = _to_chunks(doc, pairs)
    return chunks if translation is None else with_translation(doc, chunks, translation)


def with_translation(doc: Document, chunks: list[Chunk], translation: Document) -> list[Chunk]:
    """The original's chunks and, beside each, the same lines of the translation (ids `<doc>~<lang>:NNN`)."""
    lines = translation.body.split("\n")
    if len(lines) != len(doc.body.split("\n")):
        raise TranslationError(
            f"{translation.path}: {len(lines)} lines, but {doc.path} has {len(doc.body.split(chr(10)))}; "
            "a translation must follow its original line for line"
        )
    lang: Lang = "en" if translation.languages[0] == "en" else "zh"
    shift = translation.body_line_offset - doc.body_line_offset
    out: list[Chunk] = []
    for chunk in chunks:
        first = chunk.line_start - doc.body_line_offset - 1
        last = chunk.line_end - doc.body_line_offset - 1
        text = "\n".join(line.strip() for line in lines[first : last + 1] if line.strip())
        if not text:
            raise TranslationError(f"{translation.path}: lines {first + 1}-{last + 1} are empty")
        partner_id = f"{doc.doc_id}~{lang}:{chunk.position:03d}"
        out.append(dataclasses.replace(chunk, parallel_id=partner_id))
        out.append(
            Chunk(
                chunk_id=partner_id,
                doc_id=doc.doc_id,
                title=translation.title_for(lang),
                lang=lang,
                text=text,
                position=chunk.position,
                path=translation.path,
                line_start=chunk.line_start + shift,
                line_end=chunk.line_end + shift,
                parallel_id=chunk.chunk_id,
                kind=chunk.kind,
                translated=True,
            )
        )
    return out


def _parallel_spans(units: Sequence[Unit]) -> list[tuple[Span, Span | None]]:
    """Group each language section, align the groups, and pair the beads' spans."""
    zh_units = [u for u in units if u.lang == "zh"]
    en_units = [u for u in units if u.lang == "en"]
    zh_groups, en_groups = group_units(zh_units), group_units(en_units)
    if not zh_groups or not en_groups:
        return [(_span(g), None) for g in zh_groups + en_groups]
    beads = align_lengths([_length(g) for g in zh_groups], [_length(g) for g in en_groups])
    pairs: list[tuple[Span, Span | None]] = []
    for zh_range, en_range in beads:
        zh_span = _span([u for k in zh_range for u in zh_groups[k]], "zh")
        en_span = _span([u for k in en_range for u in en_groups[k]], "en")
        pairs.append((zh_span, en_span))
    return pairs


def _to_chunks(doc: Document, pairs: Iterable[tuple[Span, Span | None]]) -> list[Chunk]:
    spans = sorted(
        [(s, p) for s, p in pairs] + [(p, s) for s, p in pairs if p is not None],
        key=lambda sp: sp[0].start,
    )
    ids = {(s.start, s.end): f"{doc.doc_id}:{pos:03d}" for pos, (s, _) in enumerate(spans)}
    chunks: list[Chunk] = []
    for pos, (span, partner) in enumerate(spans):
        chunks.append(
            Chunk(
                chunk_id=ids[(span.start, span.end)],
                doc_id=doc.doc_id,
                title=doc.title_for(span.lang),
                lang=span.lang,
                text=doc.body[span.start : span.end],
                position=pos,
                path=doc.path,
                line_start=doc.body_line_offset + span.line_start + 1,
                line_end=doc.body_line_offset + span.line_end + 1,
                parallel_id=ids[(partner.start, partner.end)] if partner is not None else None,
                kind=doc.kind,
            )
        )
    return chunks


def split_corpus(docs: Sequence[Document]) -> list[Chunk]:
    """Chunks of all documents; full documents claim their lines before excerpts, so excerpts add nothing twice."""
    translations = {d.translation_of: d for d in docs if d.translation_of}
    ordered = sorted((d for d in docs if not d.translation_of), key=claim_order)
    seen: set[bytes] = set()
    chunks: list[Chunk] = []
    for doc in ordered:
        chunks.extend(split_document(doc, seen, translations.get(doc.doc_id)))
    return chunks
