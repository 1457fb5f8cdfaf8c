"""The one CJK font every export uses: Noto Sans SC, shipped inside a PyPI package and loaded by its path.

No system font is looked up, so a chart or a PDF shows Chinese on any machine where `pip install` ran.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_FAMILY = "Noto Sans SC"  # the family name DOCX files ask the reader's word processor for


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Noto Sans SC Regular (OpenType, SIL OFL 1.1), from the `pylopdf-fonts-zh-cn` package."""
    import pylopdf_fonts_zh_cn

    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise FileNotFoundError(f"the CJK font is missing: {path} (reinstall with `pip install -e .`)")
    return path
