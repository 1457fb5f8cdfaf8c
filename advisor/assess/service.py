"""The diagnosis as the CLI and the web page use it: one object over the core, the frameworks and the store.

answers → `sheet` (checked) → `assess` (scored, cited, summarised when an LLM is configured) →
`report_files` (report.md, report.docx, report.pdf, radar.png) → `write` (atomic) or `save` (for later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from ..answer.prompts import PromptLibrary
from ..export import render, write
from ..schema import Lang, Passage
from .answers import AnswerSheet, load_sheet, parse_sheet
from .compare import Comparison, compare
from .document import RADAR_FILE, radar, report_document
from .framework import DEFAULT_DIR, Criterion, Framework, load_frameworks
from .report import Assessment, Citer, Locator, cite_diagnosis
from .scoring import diagnose
from .store import AssessmentStore, Saved
from .summary import write_summary

REPORT_STEM = "report"


class Core(Locator, Protocol):
    """What the diagnosis needs of `advisor.core.Advisor`: quotes located in the index, an optional LLM."""

    settings: Any

    def llm(self, backend: str | None = None) -> Any: ...


class Assessor:
    """Frameworks from `directory`, citations from the core's index, saved assessments in the store."""

    def __init__(
        self, core: Core, directory: Path = DEFAULT_DIR, store: AssessmentStore | None = None
    ) -> None:
        self.core = core
        self.directory = directory
        self.store = store or AssessmentStore(core.settings.assessments_dir)

    @cached_property
    def frameworks(self) -> dict[str, Framework]:
        return load_frameworks(self.directory)

    def sheet(self, data: Any, lang: Lang | None = None) -> AnswerSheet:
        """Answers given as data (a parsed file or a form) checked against their framework."""
        return parse_sheet(data, self.frameworks, lang)

    def load(self, path: Path, lang: Lang | None = None) -> AnswerSheet:
        return load_sheet(path, self.frameworks, lang)

    def sources_of(self, criterion: Criterion, lang: Lang) -> list[Passage]:
        """The indexed passages a question is drawn from, to show beside its "why" before any report exists."""
        citer = Citer(self.core, lang)
        return [citer.passage(source) for source in criterion.sources]

    def assess(self, sheet: AnswerSheet, *, backend: str | None = None, summary: bool = True) -> Assessment:
        """Score and cite the answers; with an LLM backend configured, add a cited summary on top."""
        assessment = cite_diagnosis(diagnose(self.frameworks[sheet.kind], sheet), self.core, sheet.lang)
        if not summary:
            return assessment
        llm = self._llm(backend)
        if llm is None:
            return assessment
        written = write_summary(llm, assessment, PromptLibrary(self.core.settings.prompts_dir))
        return assessment if written is None else replace(assessment, summary=written)

    def _llm(self, backend: str | None) -> Any:
        """The configured LLM answerer, or None: no backend (or one that cannot be built) means no summary."""
        from ..answer.llm import LLMError

        try:
            return self.core.llm(backend)
        except LLMError:
            return None

    def report_files(self, assessment: Assessment, date: str | None = None) -> dict[str, bytes]:
        """File name → bytes: the report as Markdown, DOCX and PDF, and the radar chart the Markdown shows."""
        png = radar(assessment)
        files = render(report_document(assessment, png, date), REPORT_STEM)
        files[RADAR_FILE] = png
        return files

    def report_markdown(self, assessment: Assessment) -> str:
        """The report as Markdown alone (for a terminal or a web page), without drawing the chart."""
        from ..export.markdown import to_markdown

        return to_markdown(report_document(assessment, png=b""))

    def write(self, files: Mapping[str, bytes], out: Path) -> list[Path]:
        """Put rendered files into `out`, each atomically."""
        return write(files, out)

    # --- saved assessments -------------------------------------------------------------------------
    def save(self, assessment: Assessment, name: str, saved_at: str) -> Saved:
        return self.store.save(assessment, name, saved_at)

    def saved(self) -> list[Saved]:
        return self.store.list()

    def reopen(self, ref: str, lang: Lang | None = None, *, summary: bool = False) -> Assessment:
        """A saved assessment scored again with today's framework (in `lang`, default the language it was saved in)."""
        record = self.store.get(ref)
        sheet = record.sheet(self.frameworks)
        if lang is not None and lang != sheet.lang:
            sheet = AnswerSheet(sheet.kind, lang, sheet.answers, sheet.name)
        return self.assess(sheet, summary=summary)

    def compare(self, a: str, b: str, lang: Lang | None = None) -> Comparison:
        """Two saved assessments of the same kind, dimension by dimension."""
        return compare(self.reopen(a, lang), self.reopen(b, lang))
