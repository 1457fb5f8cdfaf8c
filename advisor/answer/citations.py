"""Citation markers in model output: parse [n] (and 【n】, [n, m], [n][m], [1-3]), drop invented ones, renumber.

The passages a model sees are numbered 1..k. A marker that names a number outside 1..k points at nothing
and is removed (and counted). Valid markers are renumbered 1, 2, … in order of first appearance, so the
answer's [n] always match its citation list. `CitationRewriter` does this on a stream of deltas, holding
back only the few characters of a marker (and the space before it) until the marker is complete.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..schema import Lang
from . import messages

_OPEN = "[【［〔"
_CLOSE = "]】］〕"
_MARKER = re.compile(r"[\[【［〔]\s*(\d{1,3}(?:\s*(?:[-–~～]|[,，、;；]|and|和)\s*\d{1,3})*)\s*[\]】］〕]")
_INNER = re.compile(r"\d{1,3}(?:\s*[-–~～]\s*\d{1,3})?")
_PUNCT = ".,;:!?。，；：！？、)）"
_MAX_MARKER = 24  # longest text held back while waiting for a closing bracket
_MAX_RANGE = 10


def marker_numbers(inner: str) -> list[int]:
    """The numbers named inside one marker: "1, 3" → [1, 3]; "2-4" → [2, 3, 4] (short ranges only)."""
    out: list[int] = []
    for part in _INNER.findall(inner):
        bounds = [int(x) for x in re.findall(r"\d+", part)]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] < _MAX_RANGE:
            out.extend(range(bounds[0], bounds[1] + 1))
        else:
            out.extend(bounds)
    return list(dict.fromkeys(out))


@dataclass
class CitationRewriter:
    """Rewrites model text delta by delta: valid markers become [n] in citation order, invalid ones vanish."""

    passages: int  # markers may name 1..passages
    order: list[int] = field(default_factory=list)  # passage numbers, in the order they were first cited
    dropped: int = 0
    _held: str = ""  # an unfinished marker, or whitespace that a dropped marker would take with it
    _out: list[str] = field(default_factory=list)
    _gap: bool = False  # whitespace is held where a marker was dropped: punctuation next takes it away

    @property
    def text(self) -> str:
        """Everything rewritten so far (without what is still held back)."""
        return "".join(self._out)

    def feed(self, delta: str) -> str:
        """Take the next piece of model output; return the text that is safe to show now."""
        emitted: list[str] = []
        for char in delta:
            self._held += char
            emitted.append(self._settle())
        out = "".join(emitted)
        self._out.append(out)
        return out

    def finish(self) -> str:
        """Flush whatever is held back at the end of the output."""
        held, self._held = self._held, ""  # an unterminated "[12" at the very end is kept as text
        self._out.append(held)
        return held

    def _settle(self) -> str:
        held = self._held
        bracket = _first_open(held)
        if bracket < 0:
            if self._gap and held.strip():
                self._gap = False
                if held.lstrip()[0] in _PUNCT:
                    held = held.lstrip()
            # Only trailing whitespace is worth holding (a marker may follow and take it away).
            stripped = held.rstrip()
            self._held = held[len(stripped) :]
            return stripped
        prefix, candidate = held[:bracket], held[bracket:]
        if candidate[-1] in _CLOSE:
            match = _MARKER.fullmatch(candidate)
            self._held = ""
            if match is None:
                return held
            rewritten = self._rewrite(match.group(1))
            if rewritten:
                self._gap = False
                return prefix + rewritten
            kept = prefix.rstrip(" \t")
            self._held, self._gap = prefix[len(kept) :], bool(prefix[len(kept) :])
            return kept
        if len(candidate) > _MAX_MARKER or not re.fullmatch(
            r"[\[【［〔][\d\s,，、;；\-–~～and和]*", candidate
        ):
            self._held = ""
            return held  # not a marker after all
        return ""

    def _rewrite(self, inner: str) -> str:
        parts: list[str] = []
        for number in marker_numbers(inner):
            if 1 <= number <= self.passages:
                if number not in self.order:
                    self.order.append(number)
                parts.append(f"[{self.order.index(number) + 1}]")
            else:
                self.dropped += 1
        return "".join(dict.fromkeys(parts))


def _first_open(text: str) -> int:
    positions = [i for i in (text.find(c) for c in _OPEN) if i >= 0]
    return min(positions) if positions else -1


@dataclass(frozen=True)
class CitedText:
    """Model output after citation checking."""

    text: str
    order: tuple[int, ...]  # cited passage numbers (1-based, as numbered in the prompt), in citation order
    dropped: int
    claims: int  # substantive lines that make a claim
    uncited_claims: int


def rewrite_citations(text: str, passages: int) -> CitedText:
    """Check a whole answer at once (the same rules as the streaming rewriter)."""
    rewriter = CitationRewriter(passages)
    rewriter.feed(text)
    rewriter.finish()
    return summarise(rewriter)


def summarise(rewriter: CitationRewriter) -> CitedText:
    text = rewriter.text.strip()
    claims, uncited = claim_counts(text)
    return CitedText(text, tuple(rewriter.order), rewriter.dropped, claims, uncited)


def claim_counts(text: str) -> tuple[int, int]:
    """(claims, claims without a marker): a claim is a substantive line — not a heading or a lead-in ending in ':'."""
    claims = uncited = 0
    for raw in text.splitlines():
        line = raw.strip().lstrip("#>*-•·0123456789.、) ").strip()
        if len(line) < 15 or line.endswith((":", "：")):
            continue
        claims += 1
        if not re.search(r"\[\d+\]", line):
            uncited += 1
    return claims, uncited


def is_grounded(cited: CitedText) -> bool:
    """At least one valid citation, and at least half of the claims carry one."""
    return bool(cited.order) and 2 * cited.uncited_claims <= cited.claims


def _squash(text: str) -> str:
    text = _MARKER.sub("", unicodedata.normalize("NFKC", text))
    return "".join(ch for ch in text.lower() if ch.isalnum())


def is_refusal(text: str, lang: Lang) -> bool:
    """Did the model answer with the fixed refusal sentence (in either language), and essentially nothing else?"""
    said = _squash(text)
    if not said:
        return False
    for refusal in (messages.REFUSAL[lang], *messages.REFUSAL.values()):
        target = _squash(refusal)
        if target in said and len(said) <= 1.5 * len(target):
            return True
    return False
