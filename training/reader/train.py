"""Fit the feature reader's logistic models on the rows of build_data.py; write advisor/read/weights/.

    python training/reader/train.py --data training/reader/cache

Passage model: "does this passage answer the question?", per kind (question and passage in the same
language, or not). Sentence model: "does this sentence hold the answer?", among the sentences of the
passages read. The operating point (the bias shift that puts it at probability 0.5) is chosen on held-out
questions of the training sources only, for a target false-refusal rate; the client-style dev split
(evals/client_dev.jsonl) sets the open questions' point beside the golden dev split and is never fitted on.
XQuAD dev-12…23, the golden test split and the client split are never loaded here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from advisor.intent import is_open  # noqa: E402
from advisor.read.features import PASSAGE_FEATURES, SENTENCE_FEATURES  # noqa: E402
from advisor.read.linear import (  # noqa: E402
    DEFAULT_WEIGHTS,
    KINDS,
    SENTENCE_KINDS,
    LinearWeights,
    sentence_kind,
    sigmoid,
)

LICENCE = (
    "Derived from CMRC 2018 (CC BY-SA 4.0, github.com/ymcui/cmrc2018), DRCD (CC BY-SA 3.0, "
    "github.com/DRCKnowledgeTeam/DRCD), the project's English translations of 2,000 of their questions "
    "(same licences) and XQuAD (CC BY-SA 4.0, github.com/deepmind/xquad); shared under CC BY-SA 4.0."
)


def load(data: Path, names: list[str]) -> dict[str, dict[str, np.ndarray]]:
    return {n: dict(np.load(data / f"{n}.npz")) for n in names if (data / f"{n}.npz").is_file()}


def held_out(group: str, share: float) -> bool:
    """A stable split by question id, so both runs of a question (answerable, withheld) stay together."""
    qid = group.split(":")[1].removesuffix("-en")
    return int(hashlib.md5(qid.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def fit(X: np.ndarray, y: np.ndarray, weight: np.ndarray, c: float) -> np.ndarray:
    """L2 logistic regression (features already include a bias column, left unpenalised in effect by scale)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    model.fit(X, y, sample_weight=weight)
    return model.coef_[0].astype(np.float32)


def question_scores(
    P: np.ndarray, group: np.ndarray, kind: np.ndarray, w: dict[str, np.ndarray]
) -> dict[str, tuple[float, str]]:
    """Best passage probability per question run, and the kind of that passage."""
    out: dict[str, tuple[float, str]] = {}
    for row, g, k in zip(P, group, kind, strict=True):
        p = float(sigmoid(np.array(row @ w[k])))
        if g not in out or p > out[g][0]:
            out[g] = (p, str(k))
    return out


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def question_texts() -> dict[str, tuple[str, str]]:
    """(question, lang) by group id for the development sets, to tell open questions from closed ones."""
    out: dict[str, tuple[str, str]] = {}
    for source, path in (
        ("xquad", REPO / "evals" / "external" / "xquad-rag-dev" / "tune.jsonl"),
        ("golden", REPO / "evals" / "golden.jsonl"),
        ("client_dev", REPO / "evals" / "client_dev.jsonl"),
    ):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("//"):
                item = json.loads(line)
                out[f"{source}:{item['id']}"] = (item["question"], item["lang"])
    return out


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    scores = np.array(pos + neg)
    order = scores.argsort().argsort() + 1
    return float((order[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def operating_point(cells: list[list[float]], target: float) -> float:
    """The highest threshold at which the answerable runs refused, averaged over cells, stay within `target`.

    Each cell (a source and question language) counts once, so a large training set cannot hide a small
    development set whose questions look different.
    """
    cells = [sorted(c) for c in cells if c]
    if not cells:
        return 0.5
    candidates = sorted({p for c in cells for p in c})
    best = candidates[0] - 1e-6
    for t in candidates:
        refused = np.mean([np.mean(np.array(c) < t) for c in cells])
        if refused > target:
            break
        best = t - 1e-6
    return float(best)


def report(
    scores: dict[str, tuple[float, str]], meta: dict[str, dict[str, Any]], threshold: dict[str, float]
) -> dict[str, Any]:
    """Per source and question language: AUC, answerable refused, unanswerable refused at the threshold."""
    cells: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"pos": [], "neg": []})
    for g, (p, k) in scores.items():
        info = meta[g]
        key = f"{info['source']}/{info['lang']}" + ("/off-corpus" if info.get("condition") == "o" else "")
        cells[key]["pos" if info["answerable"] else "neg"].append(p - threshold[k] + 0.5)
    out = {}
    for key, c in sorted(cells.items()):
        out[key] = {
            "answerable": len(c["pos"]),
            "unanswerable": len(c["neg"]),
            "auc": None if (a := auc(c["pos"], c["neg"])) is None else round(a, 3),
            "answerable_refused": round(float(np.mean([p < 0.5 for p in c["pos"]])), 3) if c["pos"] else None,
            "unanswerable_refused": round(float(np.mean([p < 0.5 for p in c["neg"]])), 3)
            if c["neg"]
            else None,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO / "training" / "reader" / "cache")
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--sources", nargs="*", default=["qa", "xquad", "golden", "client_dev"])
    parser.add_argument("--holdout", type=float, default=0.25, help="share of CMRC/DRCD questions held out")
    parser.add_argument(
        "--target",
        type=float,
        nargs=3,
        default=(0.10, 0.04, 0.08),
        metavar=("ZH", "EN", "CROSS"),
        help="answerable questions refused at the operating point, per kind (Chinese pairs, English pairs, "
        "across languages), averaged over the development sets (XQuAD dev-00..11, the golden dev split)",
    )
    parser.add_argument(
        "--open-target",
        type=float,
        default=0.04,
        help="answerable open questions (advice, comparison, case) refused",
    )
    parser.add_argument(
        "--calibrate-on",
        nargs=3,
        default=("xquad+golden", "golden", "xquad"),
        metavar=("ZH", "EN", "CROSS"),
        help="the development sets whose closed questions set each kind's operating point ('a+b': each "
        "counts once): XQuAD dev-00..11 (a corpus no one here wrote) and the golden dev split for Chinese, "
        "the golden dev split for English, XQuAD for questions across languages",
    )
    parser.add_argument(
        "--calibrate-open-on",
        default="golden+client_dev",
        help="the development sets whose open questions set theirs ('a+b': each counts once): the golden dev "
        "split and the client-style dev split (questions after the client's own situation)",
    )
    parser.add_argument(
        "--calibrate-only",
        nargs="*",
        default=["client_dev"],
        help="sources whose questions set operating points but are never fitted on (the client-style dev "
        "split: its questions then measure, held out, what the models learned from the others)",
    )
    parser.add_argument("--c", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument(
        "--features", nargs="*", default=None, help="train on these passage features only (ablation)"
    )
    args = parser.parse_args()

    sets = load(args.data, args.sources)
    rows: dict[str, list[Any]] = defaultdict(list)
    meta: dict[str, dict[str, Any]] = {}
    for name, d in sets.items():
        for q in d["questions"]:
            info = json.loads(str(q))
            meta[info["group"]] = info
        for key in ("P", "y", "group", "kind", "S", "ys", "sgroup", "skind"):
            rows[key].append(d[key])
        rows["set"].append(np.full(len(d["y"]), name))
        rows["sset"].append(np.full(len(d["ys"]), name))
    texts = question_texts()
    for g, info in meta.items():
        text = texts.get(":".join(g.split(":")[:2]))
        info["open"] = bool(text) and is_open(text[0], text[1])  # type: ignore[arg-type]
    P, y, group, kind = (np.concatenate(rows[k]) for k in ("P", "y", "group", "kind"))
    S, ys, sgroup, skind = (np.concatenate(rows[k]) for k in ("S", "ys", "sgroup", "skind"))
    skind = np.array([sentence_kind(str(k)) for k in skind])  # rows may name the pairing (zh/en/cross)
    pset, sset = np.concatenate(rows["set"]), np.concatenate(rows["sset"])
    # Passage kinds: a Chinese pair, an English pair, or across languages (rows recorded same/cross).
    pkind = np.array(
        [str(k) if k == "cross" else meta[str(g)]["lang"] for k, g in zip(kind, group, strict=True)]
    )

    mask = np.ones(len(PASSAGE_FEATURES), dtype=bool)
    if args.features:
        mask = np.array([f in args.features or f == "bias" for f in PASSAGE_FEATURES])
    # CMRC/DRCD are split by question; XQuAD dev-00..11 and the golden dev split train and calibrate.
    val = np.array(
        [
            held_out(g, args.holdout) if s == "qa" else s in args.calibrate_only
            for g, s in zip(group, pset, strict=True)
        ]
    )
    val_q = {g for g, s in zip(group, pset, strict=True) if s != "qa" or held_out(g, args.holdout)}
    weight = np.where(pset == "qa", 1.0, 3.0)

    same_w = np.zeros(len(PASSAGE_FEATURES), dtype=np.float32)
    cross_w = np.zeros(len(PASSAGE_FEATURES), dtype=np.float32)
    for target, sel in ((same_w, (kind != "cross") & ~val), (cross_w, (kind == "cross") & ~val)):
        if sel.sum() == 0 or len(set(y[sel])) < 2:
            sel = ~val
        target[mask] = fit(P[sel][:, mask], y[sel], weight[sel], args.c)
    passage = {"zh": same_w.copy(), "en": same_w.copy(), "cross": cross_w.copy()}

    # Operating points, on the development questions: one per kind for closed questions (a sentence answers
    # them), and one for open questions (advice, comparison, case), whose best passage scores lower.
    scores = question_scores(P, group, pkind, passage)
    threshold = {}
    targets = dict(zip(KINDS, args.target, strict=True))
    sources = dict(zip(KINDS, args.calibrate_on, strict=True))
    answerable = {g for g in scores if meta[g]["answerable"]}
    for k in KINDS:
        cells: dict[str, list[float]] = defaultdict(list)
        for g in answerable:
            p, kk = scores[g]
            if kk == k and not meta[g]["open"] and meta[g]["source"] in sources[k].split("+"):
                cells[f"{meta[g]['source']}/{meta[g]['lang']}"].append(p)
        threshold[k] = operating_point(list(cells.values()), targets[k])
        passage[k][PASSAGE_FEATURES.index("bias")] -= _logit(threshold[k])  # probability 0.5 = the point
    open_cells: dict[str, list[float]] = defaultdict(list)
    for g in answerable:
        if meta[g]["open"] and meta[g]["source"] in args.calibrate_open_on.split("+"):
            open_cells[f"{meta[g]['source']}/{meta[g]['lang']}"].append(scores[g][0])
    open_point = operating_point(list(open_cells.values()), args.open_target) if open_cells else None
    open_shift = {k: _logit(threshold[k]) - _logit(open_point) for k in KINDS} if open_point else {}
    shifted = question_scores(P, group, pkind, passage)
    shifted = {
        g: (float(sigmoid(np.array(_logit(p) + open_shift.get(k, 0.0)))) if meta[g]["open"] else p, k)
        for g, (p, k) in shifted.items()
    }
    figures = report({g: v for g, v in shifted.items() if g in val_q}, meta, dict.fromkeys(KINDS, 0.5))

    # Sentence model: sentences of passages that hold the answer vs. every other sentence read.
    p_logit = np.zeros(len(ys), dtype=np.float32)
    index = {}
    counter: dict[str, int] = defaultdict(int)
    for i, g in enumerate(group):
        index[f"{g}:{counter[g]}"] = i
        counter[g] += 1
    for j, sg in enumerate(sgroup):
        i = index[str(sg)]
        p_logit[j] = float(P[i] @ passage[str(pkind[i])])
    S = S.copy()
    S[:, SENTENCE_FEATURES.index("p_logit")] = p_logit
    s_val = np.array(
        [
            held_out(str(g), args.holdout) if s == "qa" else s in args.calibrate_only
            for g, s in zip(sgroup, sset, strict=True)
        ]
    )
    sentence: dict[str, np.ndarray] = {}
    for k in SENTENCE_KINDS:
        sel = (skind == k) & ~s_val
        if sel.sum() == 0 or len(set(ys[sel])) < 2:
            sel = ~s_val
        sentence[k] = fit(S[sel], ys[sel], np.ones(int(sel.sum())), args.c)
    s_hits = defaultdict(list)
    for sg, k in zip(sgroup, skind, strict=True):
        s_hits[str(sg)].append(k)
    top1 = []
    by_group: dict[str, list[int]] = defaultdict(list)
    for j, sg in enumerate(sgroup):
        by_group[str(sg)].append(j)
    for members in by_group.values():
        if not s_val[members[0]] or not ys[members].any():
            continue
        k = str(skind[members[0]])
        best = members[int(np.argmax(S[members] @ sentence[k]))]
        top1.append(bool(ys[best]))

    weights = LinearWeights(
        passage,
        sentence,
        {
            "open_operating_point": None if open_point is None else round(open_point, 4),
            "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
            "command": "python training/reader/train.py " + " ".join(sys.argv[1:]),
            "sources": {n: len(d["questions"]) for n, d in sets.items()},
            "passage_rows": len(y),
            "sentence_rows": len(ys),
            "target_false_refusal": targets,
            "calibrated_on": {**sources, "open": args.calibrate_open_on},
            "calibration_only": list(args.calibrate_only),
            "operating_point": {k: round(v, 4) for k, v in threshold.items()},
            "held_out": figures,
            "sentence_top1_held_out": round(float(np.mean(top1)), 3) if top1 else None,
            "licence": LICENCE,
        },
        open_shift,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(weights.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(weights.meta, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
