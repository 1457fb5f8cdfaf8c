"""A copy of a Unigram tokenizer.json without the pieces of scripts advisor never reads: same ids, less memory.

e5's tokenizer holds 250,000 pieces for a hundred languages; loaded by `tokenizers` it takes ~280 MB in every
process, more than the model's layers. advisor reads Chinese and English (and the Latin, Greek, symbol and
Japanese pieces that turn up inside them). The pieces that contain a letter of another script (Cyrillic,
Arabic, Hebrew, the Indic scripts, Thai, Hangul and others, `DROPPED_SCRIPTS`) are replaced by placeholders
that no text can match, so every piece keeps its id and the model its embedding rows, and 116 MB stay free.

Why the ids cannot change for text without those letters: the tokenizer picks the best-scoring split of a word
among the pieces that occur in it (Viterbi). A dropped piece holds a letter the text lacks, so it was never
among the candidates; the placeholders keep their pieces' scores, so the penalty for an unknown character,
derived from the lowest score, is the same too. Text that does hold such letters tokenises to <unk> where
they stand (tests/test_bert_fastpath.py checks the equality on the corpus and the eval questions).
"""

from __future__ import annotations

import json
import logging
import os
import unicodedata
from functools import lru_cache
from pathlib import Path

LEAN_NAME = "tokenizer.lean.json"
DROPPED_SCRIPTS = (
    "ARABIC",
    "ARMENIAN",
    "BENGALI",
    "CYRILLIC",
    "DEVANAGARI",
    "ETHIOPIC",
    "GEORGIAN",
    "GUJARATI",
    "GURMUKHI",
    "HANGUL",
    "HEBREW",
    "KANNADA",
    "KHMER",
    "LAO",
    "MALAYALAM",
    "MONGOLIAN",
    "MYANMAR",
    "ORIYA",
    "SINHALA",
    "SYRIAC",
    "TAMIL",
    "TELUGU",
    "THAANA",
    "THAI",
    "TIBETAN",
)
_PLACEHOLDER = (
    "\x00\x01{}"  # unmatchable: the pre-tokenizer isolates control characters, and text is cleaned of them
)
log = logging.getLogger("advisor.embed")


@lru_cache(maxsize=8192)
def _dropped_char(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(DROPPED_SCRIPTS)


def dropped(piece: str) -> bool:
    """Whether a piece holds a letter of a script advisor does not read."""
    return any(_dropped_char(ch) for ch in piece)


def lean_tokenizer_file(folder: Path) -> Path | None:
    """`folder/tokenizer.lean.json`, written once beside `tokenizer.json` (atomically); None when the
    tokenizer is not a Unigram one or the folder cannot be written (then the full one is used)."""
    source, lean = folder / "tokenizer.json", folder / LEAN_NAME
    try:
        if lean.is_file() and lean.stat().st_mtime >= source.stat().st_mtime:
            return lean
        data = json.loads(source.read_text(encoding="utf-8"))
        model = data.get("model") or {}
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            return None
        keep = {token["id"] for token in data.get("added_tokens", [])} | {model.get("unk_id")}
        model["vocab"] = [
            [_PLACEHOLDER.format(i), score] if i not in keep and dropped(piece) else [piece, score]
            for i, (piece, score) in enumerate(model["vocab"])
        ]
        partial = lean.with_name(f".{LEAN_NAME}.{os.getpid()}")
        partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, lean)
        return lean
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.info("using the full tokenizer of %s (%s)", folder, exc)
        return None
