"""Fit the feature reader's logistic models on the rows of build_data.py; write advisor/read/weights/.

    python training/reader/train.py --data training/reader/cache

Passage model: "does this passage answer the question?", per kind (question and passage in the same
language, or not). Sentence model: "does this sentence hold the answer?", among the sentences of the
passages read. The operating point (the bias shift that puts it at probability 0.5) is chosen on held-out
questions of the training sources only, for a target false-refusal rate; XQuAD dev-12…23 and the golden
test split are never loaded here.
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

from advisor.read.features import PASSAGE_FEATURES, SENTENCE_FEATURES  # noqa: E402
from advisor.read.linear import DEFAULT_WEIGHTS, KINDS, LinearWeights, sigmoid  # noqa: E402

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


def auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    scores = np.array(pos + neg)
    order = scores.argsort().argsort() + 1
    return float((order[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def operating_point(scores: list[tuple[float, bool]], target: float) -> float:
    """The highest threshold that refuses at most `target` of the answerable runs."""
    answerable = sorted(p for p, a in scores if a)
    if not answerable:
        return 0.5
    index = int(np.floor(target * len(answerable)))
    return float(answerable[min(index, len(answerable) - 1)]) - 1e-6


def report(
    scores: dict[str, tuple[float, str]], meta: dict[str, dict[str, Any]], threshold: dict[str, float]
) -> dict[str, Any]:
    """Per source and question language: AUC, answerable refused, unanswerable refused at the threshold."""
    cells: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"pos": [], "neg": []})
    for g, (p, k) in scores.items():
        info = meta[g]
        key = f"{info['source']}/{info['lang']}"
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
    parser.add_argument("--sources", nargs="*", default=["qa", "xquad", "golden"])
    parser.add_argument("--holdout", type=float, default=0.25, help="share of CMRC/DRCD questions held out")
    parser.add_argument(
        "--target", type=float, default=0.05, help="false refusals allowed at the operating point"
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
    P, y, group, kind = (np.concatenate(rows[k]) for k in ("P", "y", "group", "kind"))
    S, ys, sgroup, skind = (np.concatenate(rows[k]) for k in ("S", "ys", "sgroup", "skind"))
    pset, sset = np.concatenate(rows["set"]), np.concatenate(rows["sset"])

    mask = np.ones(len(PASSAGE_FEATURES), dtype=bool)
    if args.features:
        mask = np.array([f in args.features or f == "bias" for f in PASSAGE_FEATURES])
    # The small in-domain sets (XQuAD tune, golden dev) train and pick the operating point; CMRC/DRCD is split.
    val = np.array(
        [held_out(g, args.holdout) if s == "qa" else False for g, s in zip(group, pset, strict=True)]
    )
    val_q = {g for g, s in zip(group, pset, strict=True) if s != "qa" or held_out(g, args.holdout)}
    weight = np.where(pset == "qa", 1.0, 3.0)

    passage: dict[str, np.ndarray] = {}
    for k in KINDS:
        sel = (kind == k) & ~val
        if sel.sum() == 0 or len(set(y[sel])) < 2:
            sel = ~val  # no rows of this kind: share the other model
        w = np.zeros(len(PASSAGE_FEATURES), dtype=np.float32)
        w[mask] = fit(P[sel][:, mask], y[sel], weight[sel], args.c)
        passage[k] = w

    # Operating point per kind, on held-out / in-domain questions whose best passage is of that kind.
    scores = question_scores(P, group, kind, passage)
    threshold = {}
    for k in KINDS:
        chosen = [(p, meta[g]["answerable"]) for g, (p, kk) in scores.items() if kk == k and g in val_q]
        threshold[k] = operating_point(chosen, args.target)
        logit = float(np.log(threshold[k] / (1 - threshold[k])))
        passage[k] = passage[k].copy()
        passage[k][PASSAGE_FEATURES.index("bias")] -= logit  # probability 0.5 = the operating point
    shifted = question_scores(P, group, kind, passage)
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
        p_logit[j] = float(P[i] @ passage[str(kind[i])])
    S = S.copy()
    S[:, SENTENCE_FEATURES.index("p_logit")] = p_logit
    s_val = np.array(
        [held_out(str(g), args.holdout) if s == "qa" else False for g, s in zip(sgroup, sset, strict=True)]
    )
    sentence: dict[str, np.ndarray] = {}
    for k in KINDS:
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
            "trained": datetime.now(UTC).strftime("%Y-%m-%d"),
            "command": "python training/reader/train.py " + " ".join(sys.argv[1:]),
            "sources": {n: len(d["questions"]) for n, d in sets.items()},
            "passage_rows": len(y),
            "sentence_rows": len(ys),
            "target_false_refusal": args.target,
            "operating_point": {k: round(v, 4) for k, v in threshold.items()},
            "held_out": figures,
            "sentence_top1_held_out": round(float(np.mean(top1)), 3) if top1 else None,
            "licence": LICENCE,
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(weights.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(weights.meta, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
