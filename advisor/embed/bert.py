"""A lean reader of sentence-transformers BERT folders (mean pooling): no transformers import, and no torch
for a question.

Why: importing sentence-transformers (and through it transformers) took 7–10 s of the CLI's cold start on
2 cores, longer than encoding itself; importing torch alone took another 1.5–2.7 s. This module runs the same
forward pass from the same folder with `tokenizers` and two engines:

- numpy, for small batches (a question, a few sentences): the weights are memory-mapped straight from
  `model.safetensors`, nothing is imported beyond numpy, and on 2 cores it is as fast as torch for one
  question (30 vs 36 ms measured);
- torch, for large batches (ingest), where its kernels are about twice as fast as numpy's; imported on first
  such batch.

tests/test_bert_fastpath.py checks both agree with sentence-transformers (cosine ≥ 0.9999, identical token
ids). Models of any other shape use SentenceTransformerEmbedder.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from .lean_vocab import lean_tokenizer_file

# Batches of at most this many token positions (padding included) run on numpy, larger ones on torch.
NUMPY_MAX_TOKENS = 512

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file as read-only numpy arrays memory-mapped from it (nothing copied).

    The format is an 8-byte little-endian header length, a JSON header of name → dtype, shape and byte
    offsets, then the raw data. ValueError for a dtype numpy cannot map or a header that does not fit.
    """
    data = np.memmap(path, dtype=np.uint8, mode="r")
    (length,) = struct.unpack("<Q", bytes(data[:8]))
    if length > len(data) - 8:
        raise ValueError(f"{path}: not a safetensors file")
    header = json.loads(bytes(data[8 : 8 + length]))
    base = 8 + length
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}")
        start, end = info["data_offsets"]
        array = np.frombuffer(
            data, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=base + start
        )
        out[name] = array.reshape(info["shape"])
    return out


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.2e-7 (Numerical Recipes' erfc, Chebyshev fit); numpy has none and scipy costs an import."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))
    poly = 0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * poly))
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * poly))
    tail = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - tail, tail - 1.0).astype(np.float32)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * gain + bias


def is_plain_bert_folder(folder: Path) -> bool:
    """True for a sentence-transformers folder holding a BERT encoder with mean pooling and normalisation."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    types = [m.get("type", "") for m in modules]
    return (
        config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
        and len(types) == 3
        and types[1].endswith("Pooling")
        and types[2].endswith("Normalize")
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(
            v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
        )
    )


class BertMeanEncoder:
    """BERT forward pass + mean pooling + L2 normalisation, reading a sentence-transformers folder."""

    def __init__(self, folder: Path, max_length: int | None = None) -> None:
        from tokenizers import Tokenizer

        self.folder = folder

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config_path = folder / "sentence_bert_config.json"
        st_config = json.loads(st_config_path.read_text(encoding="utf-8")) if st_config_path.is_file() else {}
        self.max_length = int(
            max_length or st_config.get("max_seq_length") or config["max_position_embeddings"]
        )
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.pad_id = int(config.get("pad_token_id", 0))
        self.arrays = read_safetensors(folder / "model.safetensors")
        self._weights: dict[str, Any] | None = None
        self._torch: Any = None
        # The same ids for Chinese and English from a third of the memory (lean_vocab.py).
        tokenizer_file = lean_tokenizer_file(folder) or folder / "tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(
            pad_id=self.pad_id, pad_token=self.tokenizer.id_to_token(self.pad_id) or "<pad>"
        )

    @property
    def weights(self) -> dict[str, Any]:
        """The torch tensors (memory-mapped by safetensors), loaded with torch on first use."""
        if self._weights is None:
            import torch
            from safetensors.torch import load_file

            self._weights = load_file(str(self.folder / "model.safetensors"))
            self._torch = torch
        return self._weights

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids as the model sees them (truncated, unpadded)."""
        return [list(e.ids[: sum(e.attention_mask)]) for e in self.tokenizer.encode_batch(texts)]

    def use_torch(self) -> None:
        """Run every batch on torch from now on: a server answering several users at once. numpy's element-wise
        steps hold the GIL, torch's do not; measured on one web worker, 8 users: 4.5 answers/s on torch
        against 2.8 on numpy (at ~200 MB more memory)."""
        self.weights  # noqa: B018 - imports torch and loads its tensors

    def encode(self, texts: list[str], engine: str = "auto") -> np.ndarray:
        """Unit vectors, shape (len(texts), hidden); `engine` "numpy", "torch" or "auto" (small batches on
        numpy until `use_torch`, large ones on torch)."""
        encodings = self.tokenizer.encode_batch(texts)
        positions = len(encodings) * max((len(e.ids) for e in encodings), default=0)
        small = positions <= NUMPY_MAX_TOKENS and self._weights is None  # torch, once loaded, does it all
        if engine == "numpy" or (engine == "auto" and small):
            ids_np = np.array([e.ids for e in encodings], dtype=np.int64)
            mask_np = np.array([e.attention_mask for e in encodings], dtype=np.float32)
            hidden_np = self._forward_numpy(ids_np, mask_np)
            pooled_np = (hidden_np * mask_np[..., None]).sum(axis=1) / np.maximum(
                mask_np.sum(axis=1, keepdims=True), 1e-9
            )
            norms = np.linalg.norm(pooled_np, axis=1, keepdims=True)
            return (pooled_np / np.maximum(norms, 1e-12)).astype(np.float32)
        self.weights  # noqa: B018 - imports torch and loads its tensors on first use
        torch = self._torch
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
        with torch.inference_mode():
            hidden = self._forward(ids, mask)
            summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
            pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.numpy().astype(np.float32)

    def _forward_numpy(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The same forward pass as `_forward`, on numpy arrays; the last hidden states."""
        w = self.arrays
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        ).astype(np.float32)
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        width = x.shape[-1]
        head = width // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head))
        root_half = np.float32(1.0 / math.sqrt(2.0))

        def linear(t: np.ndarray, name: str) -> np.ndarray:
            out: np.ndarray = t @ w[name + ".weight"].T  # a transposed view: BLAS reads it as it is
            return out + w[name + ".bias"]

        def split(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = split(linear(x, p + "attention.self.query"))
            k = split(linear(x, p + "attention.self.key"))
            v = split(linear(x, p + "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            attended = linear(context, p + "attention.output.dense")
            x = _layer_norm(
                attended + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = linear(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + _erf(inner * root_half))
            out = linear(inner, p + "output.dense")
            x = _layer_norm(
                out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps
            )
        return x

    def _forward(self, ids: Any, mask: Any) -> Any:
        w = self.weights
        torch = self._torch
        functional = torch.nn.functional
        batch, length = ids.shape
        positions = torch.arange(length).unsqueeze(0)
        x = (
            functional.embedding(ids, w["embeddings.word_embeddings.weight"])
            + functional.embedding(positions, w["embeddings.position_embeddings.weight"])
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = functional.layer_norm(
            x, x.shape[-1:], w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        width = x.shape[-1]
        head = width // self.heads
        # Padding positions must not receive attention: a large negative bias on their keys.
        bias = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: Any) -> Any:
                return t.view(batch, length, self.heads, head).transpose(1, 2)

            q = split(
                functional.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
            )
            k = split(
                functional.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
            )
            v = split(
                functional.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
            )
            scores = q @ k.transpose(-1, -2) / math.sqrt(head) + bias
            context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
            attended = functional.linear(
                context, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"]
            )
            x = functional.layer_norm(
                attended + x,
                x.shape[-1:],
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = functional.gelu(
                functional.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"])
            )
            out = functional.linear(inner, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = functional.layer_norm(
                out + x,
                x.shape[-1:],
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        return x
