"""The one CJK font every export uses: Noto Sans SC, shipped inside a PyPI package and loaded by its path.

No system font is looked up, so a chart or a PDF shows Chinese on any machine where `pip install` ran.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_FAMILY = "Noto Sans SC"  # the family name DOCX files ask the reader's word processor for
_ALWAYS = "0123456789 .,:;()[]-–—•×✓?%/+"  # page numbers and the marks the renderers add themselves


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Noto Sans SC Regular (OpenType, SIL OFL 1.1), from the `pylopdf-fonts-zh-cn` package."""
    import pylopdf_fonts_zh_cn

    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise FileNotFoundError(f"the CJK font is missing: {path} (reinstall with `pip install -e .`)")
    return path


def truetype_subset(text: str, target: Path) -> Path:
    """Write the font, cut down to the characters of `text` and with TrueType outlines, to `target`.

    fpdf2 embeds a TrueType font with the Identity-H encoding, which every PDF reader (pypdf too) maps back
    to text. The package's font has CID-keyed CFF outlines, which fpdf2 embeds with a custom encoding that
    some readers cannot map. Cutting it down first keeps the conversion to about a second.
    """
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(cjk_font_path()), lazy=True, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + _ALWAYS)
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))  # cubic CFF curves → quadratic
        glyf[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["post"].formatType = 3.0  # no glyph names: CID fonts have none worth keeping
    font.sfntVersion = "\x00\x01\x00\x00"
    font.save(str(target))
    return target
