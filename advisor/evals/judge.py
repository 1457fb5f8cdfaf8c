"""An LLM judge for the eval, optional: faithfulness claim by claim, answer relevance, the advisory rubric.

`advisor eval --judge openai` has any OpenAI-compatible model (ADVISOR_JUDGE_BASE_URL / _MODEL / _API_KEY,
each defaulting to the LLM setting) score advisor's answers; the baselines are not judged. Each judgement is
one prompt file (prompts/judge_*.{zh,en}.j2, in the question's language) and one small step:
1. faithfulness: the answer split into claims, each shown with the passages its [n] cite; the judge says
   which are supported. Score: the share of claims supported.
2. answer relevance: does the answer address the question (0–3, reported as a share of 3)?
3. the rubric of evals/RUBRIC.md: relevance, actionability, faithfulness, completeness, language fit (0–3);
   "usable" follows the rubric's own rule.
The judge's raw replies are kept with each row; a reply that cannot be read scores None, never a guess.
Without a judge nothing here runs, and CI never needs one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..answer.llm import LLMError, ModelCaller
from ..answer.prompts import PromptLibrary, neutralise
from ..config import REPO_ROOT
from ..schema import Answer, Citation, Deadline, Lang

if TYPE_CHECKING:
    from ..config import Settings
    from .dataset import Item

JUDGES = ("openai",)  # the kinds of judge `--judge` accepts: any OpenAI-compatible endpoint
RUBRIC_PATH = REPO_ROOT / "evals" / "RUBRIC.md"
DIMENSIONS = ("relevance", "actionability", "faithfulness", "completeness", "language_fit")
JUDGED_METRICS = (
    "judge_faithfulness",
    "judge_relevance",
    *(f"rubric_{d}" for d in DIMENSIONS),
    "rubric_usable",
)
LABELS = {
    "judge_faithfulness": "claims supported by their cited passages",
    "judge_relevance": "answer relevance (share of 3)",
    "rubric_relevance": "rubric: relevance (0–3)",
    "rubric_actionability": "rubric: actionability (0–3)",
    "rubric_faithfulness": "rubric: faithfulness (0–3)",
    "rubric_completeness": "rubric: completeness (0–3)",
    "rubric_language_fit": "rubric: language fit (0–3)",
    "rubric_usable": "rubric: usable answers",
}
ACTION_GATED = ("advice", "diagnosis")  # question types whose answers must be actionable to be usable
MAX_CLAIMS = 20
# A sentence: one line up to an end mark, with the [n] markers that follow it. A full stop ends one only
# before a space, after a word or a marker: "1.5", "e.g." and a list's "1." stay inside.
_SENTENCE = re.compile(
    r".+?(?:[。！？!?]|(?:(?<=\w\w)|(?<=[\])%\"”’]))\.(?=\s|$)|$)(?:\s*\[\d+\])*", re.MULTILINE
)
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer that says something, and the citations its markers name."""

    text: str
    cited: tuple[Citation, ...]


def claims(answer: Answer) -> list[Claim]:
    """The answer's substantive sentences (not lead-ins ending in ':'), each with the citations it names."""
    by_n = {c.n: c for c in answer.citations}
    out: list[Claim] = []
    for match in _SENTENCE.finditer(answer.text):
        sentence = match.group(0).strip()
        bare = _MARKER.sub("", sentence).strip()
        if len(bare) < 8 or bare.endswith((":", "：")):
            continue
        cited = tuple(by_n[n] for n in dict.fromkeys(int(m) for m in _MARKER.findall(sentence)) if n in by_n)
        out.append(Claim(sentence, cited))
    return out[:MAX_CLAIMS]


def faithfulness_variables(question: str, found: Sequence[Claim]) -> dict[str, Any]:
    """Variables of the faithfulness prompt: numbered claims, each with its cited passages."""
    return {
        "question": neutralise(question),
        "claims": [
            {
                "n": n,
                "text": neutralise(claim.text),
                "passages": [{"n": c.n, "text": neutralise(_passage_text(c))} for c in claim.cited],
            }
            for n, claim in enumerate(found, 1)
        ],
    }


def relevance_variables(question: str, answer: str) -> dict[str, Any]:
    return {"question": neutralise(question), "answer": neutralise(answer)}


def rubric_variables(item: Item, answer: Answer, rubric: str) -> dict[str, Any]:
    """Variables of the rubric prompt: the rubric, the question and its ideal, the cited passages, the answer."""
    return {
        "rubric": rubric,
        "qtype": item.type,
        "answerable": "true" if item.answerable else "false",
        "question": neutralise(item.question),
        "ideal": neutralise(item.ideal),
        "passages": [{"n": c.n, "text": neutralise(_passage_text(c))} for c in answer.citations],
        "answer": neutralise(answer.text),
    }


def _passage_text(citation: Citation) -> str:
    passage = citation.passage
    return passage.chunk.text + (f"\n{passage.parallel_text}" if passage.parallel_text else "")


def parse_reply(reply: str) -> dict[str, Any] | None:
    """The JSON object in a judge's reply (models wrap it in prose or ``` fences), or None."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        value = json.loads(reply[start : end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def score(value: Any) -> int | None:
    """A 0–3 score, or None for N/A or anything that is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3 else None


def usable(item: Item, answer: Answer, rubric: dict[str, int | None]) -> float | None:
    """RUBRIC.md's rule: relevance ≥ 2 and faithfulness ≥ 2, and actionability ≥ 2 for advice and diagnosis
    questions (a refusal is not held to actionability). None when the judge gave no relevance."""
    relevance, faithfulness, actionable = (rubric[d] for d in ("relevance", "faithfulness", "actionability"))
    if relevance is None:
        return None
    gated = item.type in ACTION_GATED and not answer.refused
    ok = relevance >= 2 and (faithfulness or 0) >= 2 and (not gated or (actionable or 0) >= 2)
    return float(ok)


class Judge:
    """Scores one answer to one golden item; `name` (the judge's model) goes into the report."""

    def __init__(
        self, name: str, model: ModelCaller, prompts: PromptLibrary, rubric: str, timeout_s: float = 30.0
    ) -> None:
        self.name = name
        self.model = model
        self.prompts = prompts
        self.rubric = rubric
        self.timeout_s = timeout_s

    def __call__(self, item: Item, answer: Answer) -> dict[str, Any]:
        """{"metrics": judged metrics for the row, "verdicts": the judge's raw replies and what was read}."""
        lang: Lang = answer.lang
        verdicts: dict[str, Any] = {"model": self.name}
        metrics: dict[str, float | None] = dict.fromkeys(JUDGED_METRICS)
        found = [] if answer.refused else claims(answer)
        if found:
            reply, verdicts["faithfulness"] = self._ask(
                "faithfulness", lang, faithfulness_variables(item.question, found)
            )
            supported = [v.get("supported") for v in (reply or {}).get("verdicts", []) if isinstance(v, dict)]
            if len(supported) == len(found) and all(isinstance(s, bool) for s in supported):
                metrics["judge_faithfulness"] = sum(s is True for s in supported) / len(found)
        if not answer.refused:
            reply, verdicts["relevance"] = self._ask(
                "relevance", lang, relevance_variables(item.question, answer.text)
            )
            relevance = score((reply or {}).get("score"))
            metrics["judge_relevance"] = None if relevance is None else relevance / 3
        reply, verdicts["rubric"] = self._ask("rubric", lang, rubric_variables(item, answer, self.rubric))
        if reply is not None:
            rubric = {d: score(reply.get(d)) for d in DIMENSIONS}
            metrics.update({f"rubric_{d}": None if v is None else float(v) for d, v in rubric.items()})
            metrics["rubric_usable"] = usable(item, answer, rubric)
        return {"metrics": metrics, "verdicts": verdicts}

    def _ask(
        self, name: str, lang: Lang, variables: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(the parsed reply or None, what to keep: the raw reply or the error) of one judge prompt."""
        prompt = self.prompts.render(f"judge_{name}", lang, **variables)
        try:
            raw = self.model.text({"system": "", "user": prompt.text}, Deadline(self.timeout_s))
        except LLMError as exc:
            return None, {"prompt": prompt.ref, "error": exc.reason}
        parsed = parse_reply(raw)
        kept: dict[str, Any] = {"prompt": prompt.ref, "raw": raw}
        if parsed is None:
            kept["error"] = "unreadable"
        return parsed, kept


def build_judge(settings: Settings) -> Judge:
    """The judge the settings describe (ADVISOR_JUDGE_*, else ADVISOR_LLM_*); raises LLMError when unset."""
    from ..answer.backends import LLMConfig, chat_model_factory

    config = LLMConfig(
        "openai",
        model=settings.judge_model or settings.llm_model,
        base_url=settings.judge_base_url or settings.llm_base_url,
        api_key=settings.judge_key,
        temperature=0.0,
        timeout_s=settings.llm_timeout_s,
        retries=settings.llm_retries,
    )
    caller = ModelCaller("judge", chat_model_factory(config), retries=config.retries, secret=config.api_key)
    rubric = RUBRIC_PATH.read_text(encoding="utf-8")
    return Judge(
        config.model, caller, PromptLibrary(settings.prompts_dir), rubric, timeout_s=config.timeout_s
    )
