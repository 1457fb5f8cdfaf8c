"""Write an eval run for people and machines: report.md (headline first, then groups, then failures) and
report.json; the per-question rows are already in rows.jsonl (written by the runner as they finish)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .judge import JUDGED_METRICS
from .judge import LABELS as JUDGED_LABELS
from .runner import ALL_METRICS, MODES, STAGES

if TYPE_CHECKING:
    from .suite import SuiteResult

LABELS = {"hybrid": "advisor", "dense": "dense only (e5)", "bm25": "BM25 only"}
METRIC_LABELS = {
    "hit@1": "hit@1 — first passage from a gold source",
    "recall@5": "recall@5 — gold sources in the top 5",
    "mrr": "MRR",
    "fact_coverage_answer": "key facts in the answer text",
    "fact_coverage_cited": "key facts in the answer or its cited passages",
    "citation_validity": "[n] markers that point to a retrieved passage",
    "citation_precision": "cited passages holding a gold quote or key fact",
    "refusal_accuracy": "unanswerable questions refused",
    "false_refusal_rate": "answerable questions refused (lower is better)",
    "language_match": "answers in the question's language",
    "english_is_english": "English answers written in English (< 10 % Chinese letters)",
    "advice_has_actions": "advice answers with numbered actions and a remedy",
    "case_keeps_figures": "case answers carrying every figure of their case passage",
    "injection_resisted": "prompt injections neither obeyed nor leaking",
    "avoids_false_claims": "invented figures / false premises not repeated",
}
GROUP_COLUMNS = (
    "recall@5",
    "fact_coverage_answer",
    "fact_coverage_cited",
    "refusal_accuracy",
    "false_refusal_rate",
    "language_match",
)


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}"


def metric_counts(flat: Sequence[dict[str, Any]], mode: str = "hybrid") -> dict[str, int]:
    """How many questions each metric applies to (in one mode)."""
    return {
        name: sum(1 for r in flat if r["mode"] == mode and r.get(name) is not None) for name in ALL_METRICS
    }


def headline_table(summary: dict[str, Any], counts: dict[str, int]) -> str:
    """Every metric over all questions: advisor beside the simpler baselines."""
    modes = [m for m in MODES if m in summary]
    lines = [
        "| metric | " + " | ".join(LABELS[m] for m in modes) + " | questions |",
        "|---|" + "---|" * (len(modes) + 1),
    ]
    rows = [(METRIC_LABELS[name], "all", name) for name in ALL_METRICS]
    rows.insert(3, ("recall@5 — English questions answered only in Chinese", "cross-lingual:en", "recall@5"))
    for label, group, name in rows:
        if group not in summary.get("hybrid", {}):
            continue
        cells = [_fmt(summary.get(m, {}).get(group, {}).get(name)) for m in modes]
        cells[0] = f"**{cells[0]}**"
        n = summary["hybrid"][group]["n"] if group != "all" else counts.get(name, 0)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {n} |")
    return "\n".join(lines)


def group_table(summary: dict[str, Any], prefix: str) -> str:
    """One row per group (language or type): retrieval against the baselines, then answer metrics (advisor)."""
    groups = [g for g in summary.get("hybrid", {}) if g.startswith(prefix)]
    if not groups:  # e.g. no cross-lingual questions: every bundled document has an English side
        return ""
    modes = [m for m in MODES if m in summary]
    header = ["group", "n", *[f"recall@5 {LABELS[m]}" for m in modes]]
    header += [METRIC_LABELS[c].split(" (")[0] for c in GROUP_COLUMNS[1:]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in groups:
        row = summary["hybrid"][group]
        cells = [_group_label(group), str(row["n"])]
        cells += [_fmt(summary.get(m, {}).get(group, {}).get("recall@5")) for m in modes]
        cells += [_fmt(row.get(c)) for c in GROUP_COLUMNS[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _group_label(group: str) -> str:
    kind, _, name = group.partition(":")
    if kind == "cross-lingual":
        other = "Chinese" if name == "en" else "English"
        return f"{name} questions answered only in {other} documents"
    return name


def judged_table(summary: dict[str, Any], judge: str) -> str:
    """The LLM judge's figures for advisor's answers: overall, then per language and question type."""
    groups = [g for g in summary.get("hybrid", {}) if g == "all" or g.startswith(("lang:", "type:"))]
    lines = [
        f"Judged by `{judge}` (advisor's answers only; 0–3 scores are means, the rest shares of answers).",
        "",
        "| group | n | " + " | ".join(JUDGED_LABELS[m] for m in JUDGED_METRICS) + " |",
        "|" + "---|" * (len(JUDGED_METRICS) + 2),
    ]
    for group in groups:
        row = summary["hybrid"][group]
        label = "all" if group == "all" else _group_label(group)
        cells = [label, str(row["n"]), *(_fmt(row.get(m)) for m in JUDGED_METRICS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def latency_table(latency: dict[str, Any]) -> str:
    modes = [m for m in MODES if m in latency]
    lines = [
        "| stage | " + " | ".join(f"{LABELS[m]} p50 / p95" for m in modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for stage in STAGES:
        cells = []
        for mode in modes:
            s = latency[mode].get(stage)
            cells.append(f"{s['p50']:.0f} / {s['p95']:.0f} ms" if s else "—")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def failure_reasons(row: dict[str, Any], mode: str = "hybrid") -> list[str]:
    """Why a question counts as a failure in `mode` (empty when it passed everything)."""
    result = row["modes"].get(mode)
    if result is None:
        return []
    m = result["metrics"]
    reasons = []
    if m.get("recall@5") is not None and m["recall@5"] < 1:
        reasons.append(f"gold source missing from the top 5 (recall@5 {m['recall@5']:.2f})")
    if m.get("false_refusal_rate") == 1:
        reasons.append("refused an answerable question")
    if m.get("refusal_accuracy") == 0:
        reasons.append("answered a question the corpus does not cover")
    if m.get("fact_coverage_cited") is not None and m["fact_coverage_cited"] < 1 and not result["refused"]:
        reasons.append(f"key facts missed: {', '.join(result['facts_missed'])}")
    if m.get("citation_validity") is not None and m["citation_validity"] < 1:
        reasons.append(f"invalid or missing citations ({m['citation_validity']:.2f})")
    if m.get("language_match") == 0:
        reasons.append("answer not in the question's language")
    if m.get("injection_resisted") == 0:
        reasons.append("followed an injected instruction or leaked prompt text")
    if m.get("avoids_false_claims") == 0:
        reasons.append("repeated an invented figure or false premise")
    return reasons


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def failures_section(rows: Sequence[dict[str, Any]], mode: str = "hybrid") -> str:
    """Each failing question with what was retrieved, what was answered, and which facts were missed."""
    out: list[str] = []
    for row in rows:
        reasons = failure_reasons(row, mode)
        if not reasons:
            continue
        result = row["modes"][mode]
        sources = ", ".join(dict.fromkeys(s["doc_id"] for s in result["retrieved"])) or "—"
        out += [
            f"### {row['id']} · {row['type']} · {row['lang']}",
            "",
            f"- **question:** {_clip(row['question'], 240)}",
            f"- **why:** {'; '.join(reasons)}",
            f"- **gold sources:** {', '.join(row['gold_sources']) or '—'} · **retrieved:** {sources}",
            f"- **answer:** {_clip(result.get('error') or result['answer'], 400)}",
            f"- **facts found:** {', '.join(result['facts_found']) or '—'} · "
            f"**missed:** {', '.join(result['facts_missed']) or '—'}",
            "",
        ]
    return "\n".join(out) if out else "No failures."


def write_report(
    out: Path,
    summary: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    meta: dict[str, Any],
    *,
    latency: dict[str, Any] | None = None,
    counts: dict[str, int] | None = None,
    charts: Sequence[str] = (),
    gate: dict[str, Any] | None = None,
) -> None:
    """report.json (everything, machine-readable) and report.md (for people) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    failing = [r["id"] for r in rows if failure_reasons(r)]
    data = {
        "meta": meta,
        "headline": {mode: groups.get("all", {}) for mode, groups in summary.items()},
        "summary": summary,
        "latency_ms": latency or {},
        "failures": failing,
        "gate": gate,
    }
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    text = [
        "# advisor eval report",
        "",
        f"{meta['items']} questions from `{meta['dataset']}` · backend `{meta['backend']}` · "
        f"{meta.get('seconds', 0):.0f} s · {meta.get('date', '')}",
        "",
        f"Reproduce: `{meta['command']}`. Per-question rows: `rows.jsonl`.",
        "",
        "## Headline: advisor beside the simpler baselines",
        "",
        "Baselines answer the same questions with one retriever only (same answerer, same evidence check).",
        '"Key facts in the answer or its cited passages" also counts a fact found only in a cited passage',
        '(the extractive answerer quotes Chinese evidence for English questions); "in the answer text" does not.',
        "",
        headline_table(summary, counts or {}),
        "",
    ]
    if summary.get("bm25", {}).get("all", {}).get("false_refusal_rate") == 1.0:
        text += [
            "BM25 only refused every question: the evidence check rests on dense similarity, which this mode",
            "does not compute. Its retrieval figures are the real baseline; its answer figures are not.",
            "",
        ]
    if gate is not None:
        verdict = "passed" if gate["passed"] else "**FAILED**"
        text += [f"Gate (`{gate['thresholds']}`): {verdict}.", ""]
        text += [f"- {line}" for line in gate["failures"]] + ([""] if gate["failures"] else [])
    if meta.get("judge"):
        text += ["## Judged by an LLM", "", judged_table(summary, meta["judge"]), ""]
    if latency:
        text += ["## Latency", "", latency_table(latency), ""]
    text += [f"![{Path(c).stem}]({c})" for c in charts] + ([""] if charts else [])
    text += [
        "## By language",
        "",
        group_table(summary, "lang:"),
        "",
        group_table(summary, "cross-lingual:"),
        "",
        "## By question type",
        "",
        group_table(summary, "type:"),
        "",
        f"## Failures (advisor): {len(failing)} of {len(rows)} questions",
        "",
        failures_section(rows),
        "",
    ]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")


def summary_text(summary: dict[str, Any], counts: dict[str, int], latency: dict[str, Any]) -> str:
    """The table printed at the end of `advisor eval`."""
    parts = [headline_table(summary, counts)]
    if latency:
        parts.append(latency_table(latency))
    return "\n\n".join(parts)


SPLIT_COLUMNS = (
    "recall@5",
    "fact_coverage_answer",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "language_match",
)


def write_split_index(out: Path, splits: Sequence[tuple[str, Path, SuiteResult]], command: str) -> None:
    """report.md / report.json at the top of a multi-split run: each split's headline (advisor) side by side."""
    out.mkdir(parents=True, exist_ok=True)
    header = ["split", "questions", *[METRIC_LABELS[c].split(" (")[0] for c in SPLIT_COLUMNS], "gate"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    data: dict[str, Any] = {"command": command, "splits": {}}
    for name, dataset, result in splits:
        headline = result.summary.get("hybrid", {}).get("all", {})
        gate = "—" if result.gate is None else ("passed" if result.gate.passed else "**FAILED**")
        cells = [f"[{name}]({name}/report.md)", str(len(result.rows))]
        cells += [_fmt(headline.get(c)) for c in SPLIT_COLUMNS] + [gate]
        lines.append("| " + " | ".join(cells) + " |")
        data["splits"][name] = {
            "dataset": str(dataset),
            "items": len(result.rows),
            "headline": headline,
            "by_language": {
                g: v for g, v in result.summary.get("hybrid", {}).items() if g.startswith("lang:")
            },
            "gate": None
            if result.gate is None
            else {"passed": result.gate.passed, "failures": result.gate.failures},
        }
    text = [
        "# advisor eval report",
        "",
        f"Reproduce: `{command}`. One folder per split, each with its own report, rows and charts.",
        "",
        "Tune on dev, report on test: nothing that decides answers was tuned on the test split.",
        "",
        *lines,
        "",
    ]
    (out / "report.md").write_text("\n".join(text), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
