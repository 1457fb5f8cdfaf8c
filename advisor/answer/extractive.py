"""The embedded default answerer: composes a short cited answer from corpus sentences, shaped by the question.

No model writes anything here. Every sentence of an answer is a verbatim slice of the passage its [n]
marker points to (in Simplified script for a Simplified question on a Traditional document), so a citation
can never be invented. What is chosen comes from the reader's sentence scores (or, without a reader, the
encoder's similarity); how it is arranged comes from what the question asks for (roles.py): advice gets a
verdict, numbered actions and a case with its figures; a case question gets the case with every figure of
its passage; a comparison leads with the distinguishing criteria; a definition with the definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..embed.base import Embedder, VectorCache
from ..intent import Intent, question_intent
from ..schema import Citation, Draft, Lang, Passage, Question, Reading
from ..text import fold, simplify, split_sentences, tokenize
from . import messages
from .roles import (
    Profile,
    Role,
    addressed_to,
    clean,
    is_answer_label,
    is_heading,
    leans_on_previous,
    sentence_roles,
)

PROFILE_BONUS = 0.08  # a sentence that speaks to the client's own position comes a little earlier
MAX_SENTENCES = 8
MAX_CHARS = 900
MIN_SENTENCE_CHARS = {"zh": 8, "en": 25}
_INTRO: frozenset[Role] = frozenset({"intro"})
# How much a sentence's part in the text counts for each kind of question (added to its relevance, 0–1).
ROLE_WEIGHTS: dict[Intent, dict[Role, float]] = {
    "advice": {"remedy": 0.25, "case": 0.1, "figure": 0.05, "cause": 0.05, "problem": -0.15, "intro": -0.6},
    "comparison": {"contrast": 0.25, "definition": 0.2, "problem": -0.05, "intro": -0.6},
    "definition": {"definition": 0.3, "contrast": 0.1, "intro": -0.6},
    "case": {"case": 0.2, "figure": 0.25, "intro": -0.6},
    "fact": {"intro": -0.4},
}


@dataclass(frozen=True)
class Candidate:
    """A sentence that may go into the answer: its shown text, where it is, how relevant, what it does."""

    text: str
    passage_rank: int
    order: int  # index among its passage's sentences
    line: int  # line of the passage it sits on (002's Q&A answers are one line each)
    line_head: bool  # first sentence of its line
    relevance: float
    roles: frozenset[Role] = field(default_factory=frozenset)
    leans: bool = False
    qa: bool = False  # on the answer line of a Q&A block ("答:…"), whose opening sentence comes along
    heading: bool = False  # a line without a sentence end that states a figure: only a case answer quotes it

    @property
    def key(self) -> tuple[int, int]:
        return (self.passage_rank, self.order)


Group = list[Candidate]  # a chosen sentence with the sentence(s) it leans on, shown together


@dataclass
class Section:
    """A part of the composed answer: an optional heading, then its items (numbered or bulleted)."""

    heading: str | None
    items: list[Group]
    style: str = "inline"  # inline | numbered | bullets


def _shown(text: str, question: Question) -> str:
    """Simplified script for a Simplified question on a Traditional passage (the citation keeps the original)."""
    if question.lang == "zh" and simplify(question.text) == question.text:
        return simplify(text)
    return text


def passage_sentences(passage: Passage) -> list[tuple[int, str]]:
    """(line number, sentence) of a passage, every sentence a verbatim slice."""
    out: list[tuple[int, str]] = []
    for number, line in enumerate(passage.chunk.text.split("\n")):
        out.extend((number, s) for s in split_sentences(line))
    return out


class ExtractiveAnswerer:
    """Chooses and arranges corpus sentences; the default backend and every LLM's fallback."""

    backend = "extractive"

    def __init__(self, sentence_encoder: Embedder) -> None:
        self.encoder = sentence_encoder
        self.sentence_cache = VectorCache(20000)  # without a reader: encode each sentence once

    def answer(
        self,
        question: Question,
        passages: Sequence[Passage],
        readings: Sequence[Reading] = (),
        profile: Profile | None = None,
    ) -> Draft:
        """A cited answer from `passages` (best first); `readings` are the reader's scores for them, if any;
        `profile` (sme, park, official, consultant) puts first what speaks to that kind of client."""
        candidates = self.candidates(question, passages, readings, profile)
        if not candidates:
            return Draft("", ())
        intent = question_intent(question.text, question.lang)
        sections = compose(intent, candidates, question.lang, profile)
        return render(sections, passages, question)

    def candidates(
        self,
        question: Question,
        passages: Sequence[Passage],
        readings: Sequence[Reading] = (),
        profile: Profile | None = None,
    ) -> list[Candidate]:
        """Every usable sentence of the passages worth reading, with its relevance and roles."""
        rows: list[tuple[int, int, int, bool, str, str]] = []  # rank, order, line, head, raw, shown
        qa_lines: set[tuple[int, int]] = set()
        for rank, passage in enumerate(passages):
            seen_lines: set[int] = set()
            for order, (line, sentence) in enumerate(passage_sentences(passage)):
                head = line not in seen_lines
                seen_lines.add(line)
                if head and is_answer_label(sentence):
                    qa_lines.add((rank, line))
                rows.append((rank, order, line, head, sentence, _shown(clean(sentence), question)))
        if not rows:
            return []
        relevance = self._relevance(question, passages, readings, rows)
        out: list[Candidate] = []
        intro_lines: set[tuple[int, int]] = set()  # a paragraph opened by the author's set-up is set-up
        for (rank, order, line, head, raw, shown), score in zip(rows, relevance, strict=True):
            passage_lang: Lang = passages[rank].chunk.lang
            roles = sentence_roles(shown, passage_lang)
            if head and "intro" in roles:
                intro_lines.add((rank, line))
            elif (rank, line) in intro_lines:
                roles |= _INTRO
            heading, short = is_heading(raw), len(shown) < MIN_SENTENCE_CHARS[passage_lang]
            if "question" in roles or short or (heading and "figure" not in roles):
                continue
            score += PROFILE_BONUS if addressed_to(shown, passage_lang, profile) else 0.0
            leans, qa = leans_on_previous(raw, passage_lang), (rank, line) in qa_lines
            out.append(Candidate(shown, rank, order, line, head, float(score), roles, leans, qa, heading))
        return out

    def _relevance(
        self,
        question: Question,
        passages: Sequence[Passage],
        readings: Sequence[Reading],
        rows: Sequence[tuple[int, int, int, bool, str, str]],
    ) -> np.ndarray:
        """The reader's sentence probabilities (passages it finds far weaker count less), else similarity."""
        if readings and len(readings) == len(passages):
            best = max(r.score for r in readings) or 1.0
            by_passage = [{s.text: s.score for s in r.sentences} for r in readings]
            values = []
            for rank, _, _, _, raw, _ in rows:
                weight = min(1.0, 0.5 + 0.5 * readings[rank].score / best)
                values.append(by_passage[rank].get(raw, 0.0) * weight)
            return np.asarray(values, dtype=np.float32)
        texts = [raw for *_, raw, _ in rows]
        vectors = self.sentence_cache.get_many(texts, self.encoder.embed_passages)
        relevance = vectors @ self.encoder.embed_query(question.text)
        terms = set(tokenize(question.text))
        if terms:
            overlap = np.array([len(terms & set(tokenize(t))) / len(terms) for t in texts])
            relevance = relevance + 0.3 * overlap
        return relevance + np.array([0.15 / (1 + r[0]) for r in rows])


# --- composing by what was asked ------------------------------------------------------------------------
class _Picker:
    """Chosen sentences under the length budget; a sentence that leans on its predecessor brings it along."""

    def __init__(self, pool: Sequence[Candidate], lang: Lang) -> None:
        self.pool = list(pool)
        self.by_key = {c.key: c for c in pool}
        self.lang = lang
        self.chosen: dict[tuple[int, int], Candidate] = {}
        self.chars = 0

    def fits(self, extra: int) -> bool:
        return len(self.chosen) < MAX_SENTENCES and self.chars + extra <= MAX_CHARS

    def take(self, candidate: Candidate) -> list[Candidate]:
        """Add `candidate` (and what it leans on); the sentences added, or [] when over budget or redundant."""
        if candidate.key in self.chosen or self._redundant(candidate):
            return []
        group = [candidate]
        previous = self.by_key.get((candidate.passage_rank, candidate.order - 1))
        if candidate.leans:
            if previous is None:
                return []  # refers to something the answer cannot show
            if previous.key not in self.chosen:
                group.insert(0, previous)
        head = self._qa_head(candidate)
        if head is not None and head.key not in self.chosen and head not in group:
            group.insert(0, head)
        size = sum(len(c.text) for c in group)
        if len(self.chosen) + len(group) > MAX_SENTENCES or self.chars + size > MAX_CHARS:
            return []
        for c in group:
            self.chosen[c.key] = c
        self.chars += size
        return group

    def _qa_head(self, candidate: Candidate) -> Candidate | None:
        """The opening sentence of the Q&A answer a later sentence belongs to (it comes along)."""
        if not candidate.qa or candidate.line_head:
            return None
        return next(
            (
                c
                for c in self.pool
                if c.passage_rank == candidate.passage_rank and c.line == candidate.line and c.line_head
            ),
            None,
        )

    def _redundant(self, candidate: Candidate) -> bool:
        folded = fold(candidate.text)
        return any(folded == fold(c.text) or folded in fold(c.text) for c in self.chosen.values())

    def best(
        self, roles: set[Role] | None = None, floor: float = 0.0, exclude: set[Role] | None = None
    ) -> Candidate | None:
        for c in self.pool:
            if c.key in self.chosen or c.relevance < floor:
                continue
            if roles is not None and not roles & c.roles:
                continue
            if exclude and exclude & c.roles:
                continue
            return c
        return None


def _scored(intent: Intent, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates by relevance plus what their role is worth for this kind of question, best first."""
    weights = ROLE_WEIGHTS[intent]

    def value(c: Candidate) -> float:
        return c.relevance + sum(weights.get(r, 0.0) for r in c.roles)

    # a heading is no statement; a case answer keeps one that states figures ("payback period: 3–6 months")
    scored = [replace(c, relevance=value(c)) for c in candidates if intent == "case" or not c.heading]
    return sorted(scored, key=lambda c: (-c.relevance, c.key))


def compose(
    intent: Intent, candidates: Sequence[Candidate], lang: Lang, profile: Profile | None = None
) -> list[Section]:
    """The answer's sections for this kind of question."""
    pool = _scored(intent, candidates)
    if not pool:  # only headings without figures
        return []
    pick = _Picker(pool, lang)
    top = pool[0].relevance
    floor = top - 0.45  # far below the best sentence: not worth the reader's time
    if intent == "advice":
        return _advice(pick, floor, profile)
    if intent == "case":
        return _case(pick, pool)
    sections: list[Section] = []
    criteria: set[Role] = {"contrast", "definition"}
    first = criteria if intent in ("comparison", "definition") else None
    lead = pick.best(first, floor) or pick.best(None, floor)
    if lead is not None and (group := pick.take(lead)):
        sections.append(Section(None, [group]))
    follow_roles = criteria if intent == "comparison" else None
    limit = 4 if intent == "comparison" else 2
    rest = _gather(pick, follow_roles, max(floor, top - 0.3) if follow_roles is None else floor, limit)
    if follow_roles is not None and len(rest) < limit:
        rest += _gather(pick, None, floor, limit - len(rest))
    if rest:
        rest.sort(key=lambda group: group[0].key)
        sections.append(Section(None, rest, "bullets" if intent == "comparison" else "inline"))
    return sections


def _gather(pick: _Picker, roles: set[Role] | None, floor: float, limit: int) -> list[Group]:
    """Up to `limit` more groups whose sentence plays one of `roles`, best first, within the budget."""
    groups: list[Group] = []
    skipped: set[tuple[int, int]] = set()
    while len(groups) < limit:
        nxt = next(
            (
                c
                for c in pick.pool
                if c.key not in pick.chosen
                and c.key not in skipped
                and c.relevance >= floor
                and (roles is None or roles & c.roles)
            ),
            None,
        )
        if nxt is None:
            break
        group = pick.take(nxt)
        if group:
            groups.append(group)
        else:
            skipped.add(nxt.key)
    return groups


def _advice(pick: _Picker, floor: float, profile: Profile | None = None) -> list[Section]:
    """Verdict → why → numbered actions → a case with its figures → a caveat."""
    sections: list[Section] = []
    # A verdict states what the situation is: a distinction, a cause or a caveat, not an action or a case.
    verdict = pick.best(
        {"contrast", "definition", "cause", "caveat"}, floor, exclude={"remedy"}
    ) or pick.best(None, floor, exclude={"remedy", "case", "figure"})
    if verdict is not None and (group := pick.take(verdict)):
        sections.append(Section("verdict", [group]))
    why = pick.best({"cause", "problem"}, floor, exclude={"remedy"})
    if (
        why is not None
        and why.relevance >= (verdict.relevance if verdict else 0) - 0.25
        and (group := pick.take(why))
    ):
        sections.append(Section("why", [group]))
    actions = _gather(pick, {"remedy"}, floor, 5)
    if actions:
        # In the documents' order (steps stay in sequence); a client's own actions first.
        actions.sort(key=lambda g: (not any(addressed_to(c.text, pick.lang, profile) for c in g), g[0].key))
        sections.append(Section("actions", actions, "numbered"))
    cases = _gather(pick, {"case"}, floor - 0.2, 1) if any("figure" in c.roles for c in pick.pool) else []
    cases = [g for g in cases if any("figure" in c.roles for c in g)] or cases
    if cases:
        sections.append(Section("case", cases))
    caveats = _gather(pick, {"caveat"}, floor, 1)
    if caveats:
        sections.append(Section("caveat", caveats))
    return sections


def _case(pick: _Picker, pool: Sequence[Candidate]) -> list[Section]:
    """The best case passage, with every sentence of it that states a figure, in the passage's order."""
    cases = [c for c in pool if "figure" in c.roles]
    if not cases:
        group = pick.take(pool[0])
        return [Section(None, [group])] if group else []
    rank = cases[0].passage_rank
    chosen: list[Candidate] = []
    for c in sorted(
        (c for c in pool if c.passage_rank == rank and "figure" in c.roles), key=lambda c: c.order
    ):
        chosen.extend(pick.take(c))
    chosen.sort(key=lambda c: c.key)
    return [Section("case", [chosen])] if chosen else []


def render(sections: Sequence[Section], passages: Sequence[Passage], question: Question) -> Draft:
    """Markdown text with [n] after every sentence, numbered in order of first appearance."""
    lang = question.lang
    numbers: dict[int, int] = {}
    lines: list[str] = []
    joiner = "" if lang == "zh" else " "
    for section in sections:
        cited = []
        for group in section.items:
            parts = []
            for c in group:
                n = numbers.setdefault(c.passage_rank, len(numbers) + 1)
                parts.append(f"{c.text}[{n}]")
            cited.append(joiner.join(parts))
        heading = messages.HEADINGS[section.heading][lang] if section.heading else None
        label = f"{heading}{messages.HEADING_SEPARATOR[lang]}" if heading else ""
        if section.style == "numbered":
            block = [f"{i}. {text}" for i, text in enumerate(cited, 1)]
            lines.append((f"{label.rstrip()}\n" if label else "") + "\n".join(block))
        elif section.style == "bullets":
            lines.append((f"{label.rstrip()}\n" if label else "") + "\n".join(f"- {t}" for t in cited))
        else:
            lines.append(label + joiner.join(cited))
    if not numbers:
        return Draft("", ())
    citations = tuple(Citation(n, passages[rank]) for rank, n in numbers.items())
    text = "\n\n".join(lines)
    foreign = [passages[rank].chunk.lang != lang for rank in numbers]
    if all(foreign):
        text = f"{messages.ONLY_OTHER_LANGUAGE[lang]}\n\n{text}"
    elif any(foreign):
        text = f"{messages.PARTLY_OTHER_LANGUAGE[lang]}\n\n{text}"
    return Draft(text, citations)
