"""Feature rows for the feature reader, from open QA data run through advisor's own pipeline.

For every question, the real retriever runs twice over a corpus of many articles: once as is (answerable:
the passage holding the answer is there to find) and once with that passage withheld (unanswerable, but
on topic: the rest of its article is still there). Two questions in five run a third time with their whole
article withheld: a question about something the corpus never mentions (a city, a firm it has no document
on). Withheld chunks are hidden from the vocabulary too, so a word only they hold counts as unknown. The rows are what `advisor/read/features.py` computes
at question time, so training and use see the same numbers.

Sources (see training/README.md): CMRC 2018 and DRCD (Chinese questions), the project's English
translations of 2,000 of those questions (training/data/), XQuAD-rag dev articles dev-00…dev-11 (both
languages), the dev split evals/golden.jsonl and the client-style dev split evals/client_dev.jsonl on the
bundled corpus. Never XQuAD dev-12…dev-23, evals/test.jsonl or evals/client.jsonl: those judge the result.

    python training/reader/build_data.py --shared ../shared/training --out training/reader/cache
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from advisor.config import Settings  # noqa: E402
from advisor.core import Advisor  # noqa: E402
from advisor.evals.dataset import Item, withheld_chunks  # noqa: E402
from advisor.read.features import sentence_rows  # noqa: E402
from advisor.read.linear import FeatureReader  # noqa: E402
from advisor.schema import Chunk, Question  # noqa: E402
from advisor.text import collapse_ws, detect_lang, fold  # noqa: E402

QA_FILES = ("cmrc2018_dev.json", "cmrc2018_trial.json", "DRCD_dev.json", "DRCD_test.json")


@dataclass(frozen=True)
class Probe:
    """One question to run: where its answer is, and which chunks to withhold for the unanswerable run."""

    qid: str
    source: str  # cmrc, drcd, xquad, golden
    lang: str
    question: str
    answers: tuple[str, ...]  # answer strings (a passage/sentence holding one is a positive)
    answerable: bool  # False: the data itself says no passage answers (XQuAD's withheld paragraphs)
    article: str  # doc id of its article ("" when unknown)
    paragraph: int = -1  # paragraph index in its article (-1: unknown)
    withhold: tuple[str, ...] = ()  # an eval item's withheld answer: these passages are left out of its run


def _norm(text: str) -> str:
    return collapse_ws(fold(text)).replace(" ", "")


def write_qa_corpus(shared: Path, out: Path) -> tuple[dict[str, list[str]], dict[str, tuple[str, int]]]:
    """One Markdown file per article of CMRC/DRCD under `out`; returns paragraphs per doc and qid → (doc, para)."""
    out.mkdir(parents=True, exist_ok=True)
    paragraphs: dict[str, list[str]] = {}
    where: dict[str, tuple[str, int]] = {}
    for name in QA_FILES:
        for article in json.loads((shared / name).read_text(encoding="utf-8"))["data"]:
            doc_id = f"{name.removesuffix('.json').lower().replace('_', '-')}-{article['id']}"
            paras = [p["context"].strip() for p in article["paragraphs"]]
            paragraphs[doc_id] = paras
            for index, paragraph in enumerate(article["paragraphs"]):
                for qa in paragraph["qas"]:
                    where[qa["id"]] = (doc_id, index)
            path = out / f"{doc_id}.md"
            if not path.exists():
                title = json.dumps(article.get("title") or doc_id, ensure_ascii=False)
                front = f"---\nid: {doc_id}\ntitle: {title}\nlanguages: [zh]\n---\n"
                path.write_text(front + "\n\n".join(paras) + "\n", encoding="utf-8")
    return paragraphs, where


def qa_probes(
    shared: Path, translations: Sequence[Path], where: dict[str, tuple[str, int]], n_zh: int, seed: int
) -> list[Probe]:
    """Chinese questions (multi-paragraph DRCD articles first: their withheld runs are on topic) and English ones."""
    rng = random.Random(seed)
    rows: list[Probe] = []
    for name in QA_FILES:
        for article in json.loads((shared / name).read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    if not qa["question"].strip():
                        continue
                    doc, para = where[qa["id"]]
                    answers = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                    rows.append(
                        Probe(
                            qa["id"],
                            name.split("_")[0].lower(),
                            "zh",
                            qa["question"],
                            answers,
                            True,
                            doc,
                            para,
                        )
                    )
    multi = [r for r in rows if r.source == "drcd"]
    single = [r for r in rows if r.source != "drcd"]
    rng.shuffle(multi)
    rng.shuffle(single)
    chosen = multi[: n_zh * 2 // 3] + single[: n_zh - min(len(multi), n_zh * 2 // 3)]
    by_id = {r.qid: r for r in rows}
    for path in translations:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            base = by_id.get(item["id"])
            if base is not None and item.get("question_en", "").strip():
                chosen.append(
                    Probe(
                        base.qid + "-en",
                        base.source,
                        "en",
                        item["question_en"],
                        base.answers,
                        True,
                        base.article,
                        base.paragraph,
                    )
                )
    return chosen


def dataset_probes(path: Path, source: str, keep: Any = None) -> list[Probe]:
    """Items of a golden-format JSONL file; gold quotes and key facts mark the answering passages."""
    probes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        item = json.loads(line)
        if keep is not None and not keep(item):
            continue
        if item.get("type") in ("garbage", "long_input"):
            continue
        answers = tuple(item.get("gold_quotes") or ())
        if item["answerable"] and not answers:
            continue  # no way to tell which passage answers it
        probes.append(
            Probe(
                item["id"],
                source,
                item["lang"],
                item["question"],
                answers,
                bool(item["answerable"]),
                "",
                withhold=tuple(item.get("withhold") or ()),
            )
        )
    return probes


def withheld_ids(
    normed: Sequence[tuple[Chunk, str]], probe: Probe, paragraphs: dict[str, list[str]]
) -> frozenset[str]:
    """The chunks of the answer's paragraph, and any other chunk that holds an answer string."""
    answers = [_norm(a) for a in probe.answers]
    para = paragraphs.get(probe.article, [])
    target = _norm(para[probe.paragraph]) if 0 <= probe.paragraph < len(para) else ""
    out = set()
    for chunk, text in normed:
        if any(a and a in text for a in answers) or (
            chunk.doc_id == probe.article and text and text in target
        ):
            out.add(chunk.chunk_id)
    return frozenset(out)


class WithheldVocabulary:
    """The corpus's vocabulary as if the withheld chunks were not indexed: a word only they hold is unknown."""

    def __init__(self, base: Any, withheld: frozenset[str]) -> None:
        self.base = base
        self.rows = {i for i, cid in enumerate(base.chunk_ids) if cid in withheld}

    def _hidden(self, token: str) -> bool:
        column = self.base.vocab.get(token)
        if column is None or not self.rows:
            return False
        stored = self.base._stored
        postings = stored.weights_indices[
            int(stored.weights_indptr[column]) : int(stored.weights_indptr[column + 1])
        ]
        return all(int(r) in self.rows for r in postings)

    def knows(self, token: str) -> bool:
        return bool(self.base.knows(token)) and not self._hidden(token)

    def idf(self, token: str) -> float:
        return 1.0 if self._hidden(token) else float(self.base.idf(token))

    def pinyin_map(self) -> dict[str, list[str]]:
        return dict(self.base.pinyin_map())


def off_corpus(qid: str, share: float = 0.4) -> bool:
    """A stable choice of the questions that also run with their whole article withheld."""
    key = qid.removesuffix("-en")
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def run(
    advisor: Advisor,
    reader: FeatureReader,
    probes: Sequence[Probe],
    paragraphs: dict[str, list[str]],
    both: bool,
    log_every: int = 200,
) -> dict[str, list[Any]]:
    """Feature rows and labels for every probe (and, with `both`, its withheld twin)."""
    normed = [(c, _norm(c.text)) for c in advisor.index.chunks()]  # once: folding is the slow part
    vocabulary = advisor.vocabulary()
    out: dict[str, list[Any]] = {
        k: [] for k in ("P", "y", "group", "kind", "S", "ys", "sgroup", "skind", "questions")
    }
    started = time.perf_counter()
    for number, probe in enumerate(probes, 1):
        conditions = [("a", frozenset())]
        if both and probe.answerable:
            conditions.append(("u", withheld_ids(normed, probe, paragraphs)))
            if probe.article and off_corpus(probe.qid):
                article = frozenset(c.chunk_id for c, _ in normed if c.doc_id == probe.article)
                conditions.append(("o", article))
        elif not probe.answerable:  # as the eval runs it: an item's withheld answer is left out
            item = Item(probe.qid, probe.lang, probe.question, "withheld", False, withhold=probe.withhold)
            conditions = [("u", withheld_chunks(item, [c for c, _ in normed]))]
        lang = probe.lang if probe.lang in ("zh", "en") else detect_lang(probe.question)
        question = Question(probe.question, lang)  # type: ignore[arg-type]
        answers = [_norm(a) for a in probe.answers if a.strip()]
        for condition, exclude in conditions:
            answerable = condition == "a"
            passages = advisor.retrieve(question, exclude=exclude).passages
            if not passages:
                continue
            seen = WithheldVocabulary(vocabulary, exclude) if exclude else vocabulary
            data = reader.inputs(question, passages, seen)
            group = f"{probe.source}:{probe.qid}:{condition}"
            labels = []
            for i, passage in enumerate(passages):
                text = _norm(passage.chunk.text + (passage.parallel_text or ""))
                positive = answerable and any(a in text for a in answers)
                labels.append(positive)
                out["P"].append(data.rows[i])
                out["y"].append(positive)
                out["group"].append(group)
                out["kind"].append(data.kinds[i])
                s_rows = sentence_rows(question, data.texts[i], data.sims[i], 0.0, seen)
                for j, (_, sentence) in enumerate(data.texts[i].sentences):
                    out["S"].append(s_rows[j])
                    out["ys"].append(positive and any(a in _norm(sentence) for a in answers))
                    out["sgroup"].append(f"{group}:{i}")
                    out["skind"].append(data.kinds[i])
            out["questions"].append(
                {
                    "group": group,
                    "source": probe.source,
                    "lang": lang,
                    "answerable": answerable,
                    "condition": condition,
                    "found": any(labels),
                    "withheld": len(exclude),  # chunks left out of this run
                }
            )
        if number % log_every == 0:
            rate = number / (time.perf_counter() - started)
            print(f"  {number}/{len(probes)} questions ({rate:.1f}/s)", file=sys.stderr, flush=True)
    return out


def save(path: Path, parts: dict[str, list[Any]]) -> None:
    np.savez_compressed(
        path,
        P=np.asarray(parts["P"], dtype=np.float32),
        y=np.asarray(parts["y"], dtype=bool),
        group=np.asarray(parts["group"]),
        kind=np.asarray(parts["kind"]),
        S=np.asarray(parts["S"], dtype=np.float32),
        ys=np.asarray(parts["ys"], dtype=bool),
        sgroup=np.asarray(parts["sgroup"]),
        skind=np.asarray(parts["skind"]),
        questions=np.asarray([json.dumps(q) for q in parts["questions"]]),
    )
    print(f"wrote {path} ({len(parts['y'])} passage rows, {len(parts['ys'])} sentence rows)", file=sys.stderr)


def advisor_for(corpus: Path, home: Path, models: Path) -> tuple[Advisor, FeatureReader]:
    advisor = Advisor(Settings(home=home, corpus_dir=corpus, models_dir=models))
    advisor.ingest()
    keys = (advisor.embedders[0].key, advisor.embedders[-1].key)
    return advisor, FeatureReader(advisor.embedders[-1], keys)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared", type=Path, required=True, help="folder with the CMRC 2018 / DRCD json files"
    )
    parser.add_argument(
        "--translations",
        type=Path,
        nargs="*",
        default=sorted((REPO / "training" / "data").glob("en-questions-*.jsonl")),
    )
    parser.add_argument("--out", type=Path, default=REPO / "training" / "reader" / "cache")
    parser.add_argument(
        "--models",
        type=Path,
        default=Path(os.environ.get("ADVISOR_MODELS_DIR") or REPO / ".advisor-home" / "models"),
    )
    parser.add_argument("--zh", type=int, default=3000, help="Chinese CMRC/DRCD questions to use")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", nargs="*", default=["qa", "xquad", "golden", "client_dev"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if "qa" in args.only:
        paragraphs, where = write_qa_corpus(args.shared, args.out / "qa-corpus")
        probes = qa_probes(args.shared, args.translations, where, args.zh, args.seed)
        print(f"qa: {len(probes)} questions over {len(paragraphs)} articles", file=sys.stderr)
        advisor, reader = advisor_for(args.out / "qa-corpus", args.out / "qa-home", args.models)
        save(args.out / "qa.npz", run(advisor, reader, probes, paragraphs, both=True))
    if "xquad" in args.only:
        xquad = REPO / "evals" / "external" / "xquad-rag-dev"
        probes = dataset_probes(xquad / "tune.jsonl", "xquad")
        advisor, reader = advisor_for(xquad / "corpus", args.out / "xquad-home", args.models)
        save(args.out / "xquad.npz", run(advisor, reader, probes, {}, both=False))
    # The dev splits on the bundled corpus: golden and the client-style questions, over one index.
    bundled = [name for name in ("golden", "client_dev") if name in args.only]
    if bundled:
        advisor, reader = advisor_for(REPO / "corpus", args.out / "golden-home", args.models)
        for name in bundled:
            probes = dataset_probes(REPO / "evals" / f"{name}.jsonl", name)
            save(args.out / f"{name}.npz", run(advisor, reader, probes, {}, both=False))


if __name__ == "__main__":
    main()
