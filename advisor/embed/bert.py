"""A lean reader of sentence-transformers BERT folders (mean pooling): plain torch, no transformers import.

Why: importing sentence-transformers (and through it transformers) took 7–10 s of the CLI's cold start on
2 cores, longer than encoding itself. This module runs the same forward pass from the same folder with
torch, `tokenizers` and `safetensors` only; tests/test_bert_fastpath.py checks it agrees with
sentence-transformers (cosine ≥ 0.9999, identical token ids). Models of any other shape use
SentenceTransformerEmbedder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .lean_vocab import lean_tokenizer_file


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
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

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
        self.weights: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        # The same ids for Chinese and English from a third of the memory (lean_vocab.py).
        tokenizer_file = lean_tokenizer_file(folder) or folder / "tokenizer.json"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer.enable_padding(
            pad_id=self.pad_id, pad_token=self.tokenizer.id_to_token(self.pad_id) or "<pad>"
        )
        self._torch = torch

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids as the model sees them (truncated, unpadded)."""
        return [list(e.ids[: sum(e.attention_mask)]) for e in self.tokenizer.encode_batch(texts)]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, shape (len(texts), hidden)."""
        torch = self._torch
        encodings = self.tokenizer.encode_batch(texts)
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
        with torch.inference_mode():
            hidden = self._forward(ids, mask)
            summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
            pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.numpy().astype(np.float32)

    def _forward(self, ids: Any, mask: Any) -> Any:
        torch = self._torch
        functional = torch.nn.functional
        w = self.weights
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
