"""The 诊断 / Diagnose tab: pick what is assessed, answer (or skip) the questions, read and download the report.

`build` adds the tab inside the caller's gr.Tabs and wires its events; the handlers are plain functions of
(assessor, inputs) → named results, tested without a browser.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ..assess.answers import AnswersError, Value
from ..assess.framework import ChoiceAnswer, Criterion, NumberAnswer
from ..assess.service import Assessor
from ..assess.store import StoreError, now
from ..assess.strings import YPN_WORDS
from ..schema import Lang

if TYPE_CHECKING:
    from ..core import Advisor

TEXT: dict[str, dict[str, str]] = {
    "tab": {"zh": "诊断", "en": "Diagnose"},
    "intro": {
        "zh": "选择评估对象，回答下面的问题（每题都可跳过），即可得到一份有出处的诊断报告：所处阶段、各维度得分、主要差距、建议行动和需要关注的指标。",
        "en": "Choose what is assessed and answer the questions (any may be skipped) for a cited report: the stage, "
        "scores by dimension, the main gaps, recommended actions and the indicators to watch.",
    },
    "kind": {"zh": "评估对象", "en": "What is assessed"},
    "name": {
        "zh": "名称（可选，填写后会保存，便于以后对比）",
        "en": "Name (optional; given, the assessment is saved for comparing later)",
    },
    "submit": {"zh": "生成诊断报告", "en": "Build the report"},
    "skip": {"zh": "跳过", "en": "skip"},
    "empty_skips": {"zh": "留空即跳过", "en": "leave empty to skip"},
    "why": {"zh": "为什么问", "en": "Why we ask"},
    "source": {"zh": "出处", "en": "Source"},
    "done": {"zh": "报告已生成。", "en": "The report is ready."},
    "saved_as": {"zh": "已保存为“{name}”。", "en": "Saved as “{name}”."},
    "failed": {"zh": "无法生成报告：{reason}", "en": "The report could not be built: {reason}"},
    "download_md": {"zh": "下载 Markdown", "en": "Download Markdown"},
    "download_docx": {"zh": "下载 Word", "en": "Download Word"},
    "download_pdf": {"zh": "下载 PDF", "en": "Download PDF"},
    "saved": {"zh": "已保存的评估", "en": "Saved assessments"},
    "open": {"zh": "打开", "en": "Open"},
    "compare_a": {"zh": "对比：前者", "en": "Compare: first"},
    "compare_b": {"zh": "后者", "en": "second"},
    "compare": {"zh": "对比", "en": "Compare"},
}


def t(lang: str, key: str, **values: object) -> str:
    """The tab's string `key` in the page's language."""
    text = TEXT[key]["zh" if lang == "zh" else "en"]
    return text.format(**values) if values else text


@dataclass(frozen=True)
class ReportView:
    """What the tab shows after a report is built: the report, its chart and the three files to download."""

    status: str
    markdown: str = ""
    chart: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # "md" / "docx" / "pdf" → path


# --- handlers: plain functions --------------------------------------------------------------------
def question_label(criterion: Criterion, number: int, total: int, lang: Lang) -> str:
    """ "3/27 · short name — the question", the label above a question's input."""
    return f"{number}/{total} · {criterion.label(lang)} — {criterion.question(lang)}"


def question_info(assessor: Assessor, criterion: Criterion, lang: Lang) -> str:
    """Why the question is asked, with the passage it comes from (plain text: Gradio shows `info` as text)."""
    where = "; ".join(f"{p.chunk.title} · {p.chunk.location}" for p in assessor.sources_of(criterion, lang))
    cited = f"（{t(lang, 'source')}: {where}）" if lang == "zh" else f" ({t(lang, 'source')}: {where})"
    return f"{t(lang, 'why')}: {criterion.why(lang)}{cited}"


def choices(criterion: Criterion, lang: Lang) -> list[tuple[str, str]]:
    """The options of a radio question, "skip" first (its value "" means not answered)."""
    answer = criterion.answer
    skip = (t(lang, "skip"), "")
    if isinstance(answer, ChoiceAnswer):
        return [skip, *((o.label(lang), o.id) for o in answer.options)]
    return [skip, *((YPN_WORDS[w][lang], w) for w in ("yes", "partly", "no"))]


def build_report(
    assessor: Assessor, kind: str, lang: Lang, name: str, answers: dict[str, Any], folder: Path, saved_at: str
) -> ReportView:
    """Check and score the answers, write the report files into `folder`, and save it when it has a name."""
    framework = assessor.frameworks.get(kind)
    given = {
        cid: _typed(framework.criteria_by_id.get(cid) if framework else None, value)
        for cid, value in answers.items()
        if value not in (None, "")
    }
    try:
        sheet = assessor.sheet({"kind": kind, "lang": lang, "name": name or "", "answers": given})
        result = assessor.assess(sheet)
    except AnswersError as exc:
        return ReportView(t(lang, "failed", reason=str(exc)))
    files = assessor.report_files(result)
    paths = {p.suffix.lstrip("."): str(p) for p in assessor.write(files, folder)}
    status = t(lang, "done")
    if name and name.strip():
        assessor.save(result, name, saved_at)
        status += " " + t(lang, "saved_as", name=name.strip())
    lines = files["report.md"].decode("utf-8").splitlines()  # the chart is shown beside, not linked
    page = "\n".join(line for line in lines if not line.startswith("!["))
    return ReportView(status, page, paths.pop("png"), paths)


def _typed(criterion: Criterion | None, raw: Any) -> Any:
    """A number typed into the form as a number ("65", "65 %"); anything else is left for the checks to name."""
    if criterion is not None and isinstance(criterion.answer, NumberAnswer) and isinstance(raw, str):
        try:
            return float(raw.strip().rstrip("%").strip())
        except ValueError:
            return raw
    return raw


def saved_choices(assessor: Assessor) -> list[tuple[str, str]]:
    """(label, id) of every saved assessment, newest first, for the open and compare lists."""
    return [(f"{r.name} · {r.kind} · {r.saved_at[:10]}", r.id) for r in assessor.saved()]


def open_saved(assessor: Assessor, ref: str) -> tuple[str, dict[str, Value]]:
    """The kind and answers of a saved assessment, to fill the form with (StoreError when it is gone)."""
    record = assessor.store.get(ref)
    return record.kind, record.sheet(assessor.frameworks).answers


def compare_saved(assessor: Assessor, a: str, b: str, lang: Lang) -> str:
    """Two saved assessments side by side, as a Markdown table (or the reason they cannot be compared)."""
    try:
        comparison = assessor.compare(a, b, lang)
    except (StoreError, ValueError) as exc:
        return f"⚠ {html.escape(str(exc))}"
    names = (comparison.a.diagnosis.sheet.name or a, comparison.b.diagnosis.sheet.name or b)
    header, rows = comparison.table(lang, *names)
    cells = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    cells += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(cells)


def assess_api(assessor: Assessor, answers: str, lang: str = "") -> dict[str, Any]:
    """The structured result for an answers document given as JSON text (the answers-file shape)."""
    try:
        data = json.loads(answers)
        sheet = assessor.sheet(data, lang if lang in ("zh", "en") else None)  # type: ignore[arg-type]
    except (ValueError, AnswersError) as exc:
        raise gr.Error(str(exc)) from exc
    return assessor.assess(sheet).to_dict()


# --- layout ---------------------------------------------------------------------------------------
@dataclass
class AssessTab:
    """The components of the tab, by role (the lead's layout dataclass can take these over as they are)."""

    tab: Any
    intro: Any
    kind: Any
    groups: dict[str, Any]
    fields: dict[str, list[tuple[Criterion, Any]]]
    name: Any
    submit: Any
    status: Any
    report: Any
    chart: Any
    downloads: dict[str, Any]
    saved: Any
    open: Any
    compare_a: Any
    compare_b: Any
    compare: Any
    comparison: Any


def field_text(
    assessor: Assessor, criterion: Criterion, number: int, total: int, lang: Lang
) -> dict[str, Any]:
    """The label, the why-and-source line and the options (or a number's range) of one question, in `lang`."""
    text: dict[str, Any] = {
        "label": question_label(criterion, number, total, lang),
        "info": question_info(assessor, criterion, lang),
    }
    answer = criterion.answer
    if isinstance(answer, NumberAnswer):
        text["placeholder"] = f"{answer.min:g}–{answer.max:g} {answer.unit(lang)} · {t(lang, 'empty_skips')}"
    else:
        text["choices"] = choices(criterion, lang)
    return text


def _field(assessor: Assessor, criterion: Criterion, number: int, total: int, lang: Lang) -> Any:
    """A radio for yes/partly/no and choices ("skip" selected), a text box for a number (empty: skipped)."""
    text = field_text(assessor, criterion, number, total, lang)
    if isinstance(criterion.answer, NumberAnswer):
        return gr.Textbox(lines=1, max_lines=1, elem_id=f"q-{criterion.id}", **text)
    return gr.Radio(value="", elem_id=f"q-{criterion.id}", **text)


def build(advisor: Advisor, lang: Any, first_lang: str = "zh") -> AssessTab:
    """Add the tab inside the caller's gr.Tabs and wire its events; `lang` is the page's language switch."""
    lang0 = _as_lang(first_lang)
    assessor = Assessor(advisor)
    frameworks = assessor.frameworks
    kinds = list(frameworks)
    with gr.Tab(t(lang0, "tab"), id="assess", elem_id="tab-assess") as tab:
        intro = gr.Markdown(t(lang0, "intro"))
        kind = gr.Radio(
            [(frameworks[k].title(lang0), k) for k in kinds],
            value=kinds[0],
            label=t(lang0, "kind"),
            elem_id="assess-kind",
        )
        groups: dict[str, Any] = {}
        fields: dict[str, list[tuple[Criterion, Any]]] = {}
        for k in kinds:
            with gr.Group(visible=k == kinds[0], elem_id=f"assess-{k}") as group:
                total = len(frameworks[k].criteria)
                fields[k] = [
                    (c, _field(assessor, c, n, total, lang0)) for n, c in enumerate(frameworks[k].criteria, 1)
                ]
            groups[k] = group
        with gr.Row(equal_height=True):
            name = gr.Textbox(label=t(lang0, "name"), scale=3, elem_id="assess-name")
            submit = gr.Button(t(lang0, "submit"), variant="primary", scale=1, elem_id="assess-submit")
        status = gr.Markdown(elem_id="assess-status")
        with gr.Row(equal_height=True):
            downloads = {
                fmt: gr.DownloadButton(
                    t(lang0, f"download_{fmt}"), visible=False, size="sm", elem_id=f"assess-{fmt}"
                )
                for fmt in ("md", "docx", "pdf")
            }
        chart = gr.Image(type="filepath", show_label=False, visible=False, elem_id="assess-chart")
        report = gr.Markdown(elem_id="assess-report")
        with gr.Row(equal_height=True):
            saved = gr.Dropdown(
                saved_choices(assessor), label=t(lang0, "saved"), scale=3, elem_id="assess-saved"
            )
            open_button = gr.Button(t(lang0, "open"), size="sm", scale=1, elem_id="assess-open")
        with gr.Row(equal_height=True):
            compare_a = gr.Dropdown(
                saved_choices(assessor), label=t(lang0, "compare_a"), elem_id="assess-compare-a"
            )
            compare_b = gr.Dropdown(
                saved_choices(assessor), label=t(lang0, "compare_b"), elem_id="assess-compare-b"
            )
            compare = gr.Button(t(lang0, "compare"), size="sm", elem_id="assess-compare")
        comparison = gr.Markdown(elem_id="assess-comparison")
        ui = AssessTab(
            tab, intro, kind, groups, fields, name, submit, status, report, chart, downloads,
            saved, open_button, compare_a, compare_b, compare, comparison,
        )  # fmt: skip
        _wire(assessor, ui, lang, now)  # inside the tab: the page's gr.Tabs takes only tabs as children
    return ui


def _wire(assessor: Assessor, ui: AssessTab, lang: Any, now: Any) -> None:
    """The events: thin adapters from Gradio's positional values to the handlers above."""
    kinds = list(ui.fields)
    inputs = [c for k in kinds for _, c in ui.fields[k]]
    order = [(k, criterion.id) for k in kinds for criterion, _ in ui.fields[k]]
    lists = [ui.saved, ui.compare_a, ui.compare_b]
    args: dict[str, Any] = {
        "concurrency_id": "assess",
        "concurrency_limit": assessor.core.settings.web_concurrency,
    }

    def show_kind(kind: str) -> list[Any]:
        return [gr.update(visible=k == kind) for k in kinds]

    def submit(kind: str, page_lang: str, name: str, *values: Any) -> list[Any]:
        answers = {cid: v for (k, cid), v in zip(order, values, strict=True) if k == kind}
        temp = assessor.core.settings.web_temp_dir  # Gradio serves files only from its own temp folder
        temp.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="advisor-report-", dir=temp))
        view = build_report(assessor, kind, _as_lang(page_lang), name, answers, folder, now())
        buttons = [gr.update(value=view.files.get(f), visible=f in view.files) for f in ("md", "docx", "pdf")]
        chart = gr.update(value=view.chart, visible=view.chart is not None)
        refreshed = [gr.update(choices=saved_choices(assessor)) for _ in lists]
        return [view.status, view.markdown, chart, *buttons, *refreshed]

    def reopen(ref: str | None) -> list[Any]:
        if not ref:
            return [gr.skip()] * (1 + len(inputs) + len(kinds))
        try:
            kind, answers = open_saved(assessor, ref)
        except StoreError as exc:
            gr.Warning(str(exc))
            return [gr.skip()] * (1 + len(inputs) + len(kinds))
        values = [_shown(answers.get(cid)) if k == kind else gr.skip() for k, cid in order]
        return [kind, *show_kind(kind), *values]

    def relabel(page_lang: str) -> list[Any]:
        lang_ = _as_lang(page_lang)
        updates: list[Any] = [gr.Tab(label=t(lang_, "tab")), t(lang_, "intro")]
        updates.append(
            gr.update(
                choices=[(assessor.frameworks[k].title(lang_), k) for k in kinds], label=t(lang_, "kind")
            )
        )
        for k in kinds:
            total = len(ui.fields[k])
            updates += [
                gr.update(**field_text(assessor, criterion, n, total, lang_))
                for n, (criterion, _) in enumerate(ui.fields[k], 1)
            ]
        updates += [gr.update(label=t(lang_, "name")), gr.update(value=t(lang_, "submit"))]
        updates += [gr.update(label=t(lang_, f"download_{f}")) for f in ("md", "docx", "pdf")]
        updates += [gr.update(label=t(lang_, "saved")), gr.update(value=t(lang_, "open"))]
        updates += [
            gr.update(label=t(lang_, "compare_a")),
            gr.update(label=t(lang_, "compare_b")),
            gr.update(value=t(lang_, "compare")),
        ]
        return updates

    ui.kind.change(
        show_kind,
        ui.kind,
        list(ui.groups.values()),
        api_name="assess_kind",
        api_visibility="private",
        queue=False,
    )
    downloads = [ui.downloads[f] for f in ("md", "docx", "pdf")]
    ui.submit.click(
        submit,
        [ui.kind, lang, ui.name, *inputs],
        [ui.status, ui.report, ui.chart, *downloads, *lists],
        api_name="assess_form",
        api_visibility="private",
        **args,
    )
    ui.open.click(
        reopen,
        ui.saved,
        [ui.kind, *ui.groups.values(), *inputs],
        api_name="assess_open",
        api_visibility="private",
    )
    ui.compare.click(
        lambda a, b, page_lang: compare_saved(assessor, a or "", b or "", _as_lang(page_lang)),
        [ui.compare_a, ui.compare_b, lang],
        ui.comparison,
        api_name="assess_compare",
        api_visibility="private",
    )
    lang.change(
        relabel,
        lang,
        [
            ui.tab,
            ui.intro,
            ui.kind,
            *inputs,
            ui.name,
            ui.submit,
            *downloads,
            ui.saved,
            ui.open,
            ui.compare_a,
            ui.compare_b,
            ui.compare,
        ],
        api_name="assess_relabel",
        api_visibility="private",
    )

    def api(answers: str, lang: str = "") -> dict[str, Any]:
        """Run a diagnosis from an answers document (JSON, the shape of assessments/examples/*.yaml); returns the result."""
        return assess_api(assessor, answers, lang)

    gr.api(api, api_name="assess")


def _shown(value: Value | None) -> str:
    """An answer as the form shows it: an option id, or a number as typed."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def _as_lang(value: str) -> Lang:
    return "en" if value == "en" else "zh"
