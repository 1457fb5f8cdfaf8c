"""Language-aware text helpers: language detection, Traditional→Simplified folding, tokens, sentences."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .schema import Lang

CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # the one definition of a Chinese character
_CJK = re.compile(f"[{CJK_RANGES}]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_WORDISH = re.compile(f"[\\w{CJK_RANGES}]", re.UNICODE)
_SPACES = re.compile(r"\s+")
# Sentence ends: Chinese 。！？；and the ASCII/full-width equivalents, keeping closing quotes with the sentence.
# A full stop after a digit ("1. ", "2.5") is a list number or a decimal, not a sentence end.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])[”’\"')）]*|(?<=[^\d\s][.])[”’\"')）]*(?=\s)")

EN_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being it its this that
    these those do does did how what which who whom why when where can could should would will shall may might
    must i we you they he she our your their my me us them not no than then so such into about over under
    there here have has had also very more most any all each other some only own same just too between both""".split()
)
ZH_STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 也 都 而 就 把 被 对 于 之 其 这 那 有 为 以 中 等 吗 呢 吧 啊 什么 怎么 如何 我们 你们 他们".split()
)


def cjk_count(text: str) -> int:
    """Number of CJK ideographs in `text`."""
    return len(_CJK.findall(text))


def detect_lang(text: str) -> Lang:
    """'zh' when Chinese characters dominate the words of `text`, else 'en'.

    One CJK character carries about as much as one English word, and an English question may quote a
    Chinese term ("How is 产业集群 defined?"), so Chinese must clearly outnumber English words.
    """
    han = cjk_count(text)
    words = len(_LATIN_WORD.findall(text))
    return "zh" if han > 0 and han >= 1.5 * words else "en"


def has_content(text: str) -> bool:
    """True when `text` holds at least one letter, digit-free word or Chinese character."""
    return bool(_CJK.search(text) or _LATIN_WORD.search(text))


def collapse_ws(text: str) -> str:
    """Whitespace runs → one space, stripped; used to compare passages with the corpus."""
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def simplify(text: str) -> str:
    """Traditional→Simplified only: what the encoders read, so both scripts land in one space."""
    return _t2s().convert(text) if _CJK.search(text) else text


def fold(text: str) -> str:
    """Matching form of `text`: NFKC, Traditional→Simplified, lower case. Never shown to users."""
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = _t2s().convert(text)
    return text.lower()


_LAZY: list[Any] = []  # the LazyWords feeding jieba's tokenizer (jieba_lazy.py), when it could be had


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    from .jieba_lazy import lazy_words

    jieba.setLogLevel(logging.WARNING)
    lazy = lazy_words(jieba)
    if lazy is None:
        jieba.initialize()
    else:
        _LAZY.append(lazy)
    return jieba


def _cut(text: str) -> list[str]:
    """jieba's words of `text` (its dictionary read as far as this text needs it)."""
    jieba = _jieba()
    if _LAZY:
        _LAZY[0].prepare(text)
    return list(jieba.lcut(text))


def load_dictionary() -> None:
    """Load jieba's whole dictionary now (a long-lived process or an ingest: it cuts much text)."""
    _jieba()
    if _LAZY:
        _LAZY[0].load_full()


def _in_dictionary(word: str) -> bool:
    if _LAZY:
        return bool(_LAZY[0].get(word))
    return bool(_jieba().dt.FREQ.get(word))


@lru_cache(maxsize=1)
def _dictionary_classes() -> tuple[frozenset[str], frozenset[str]]:
    """(names, function words) by the part-of-speech column of jieba's own dictionary.

    Read from the dictionary (0.35 s, ~25 MB) instead of loading jieba.posseg, whose tag table and HMM tables
    cost ~70 MB in every process (measured: bench/results/PROFILE.md): only a word's class is needed, never a
    tag sequence. Kept as a marshal file beside jieba's own cache (0.07 s to read), keyed by the dictionary's
    size and time.
    """
    import marshal
    import os
    import tempfile

    jieba = _jieba()
    source = Path(jieba.__file__).parent / "dict.txt"
    try:
        stat = source.stat()
        uid = os.getuid() if hasattr(os, "getuid") else 0
        key = f"{uid}-{stat.st_size}-{int(stat.st_mtime)}"
        cache = Path(tempfile.gettempdir()) / f"advisor-word-classes-{key}.marshal"
        if cache.stat().st_uid != uid:  # a shared temp folder: read only a file this user wrote
            raise OSError("not ours")
        names_cached, function_cached = marshal.loads(cache.read_bytes())
        return frozenset(names_cached), frozenset(function_cached)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    names: set[str] = set()
    function: set[str] = set()
    with jieba.dt.get_dict_file() as handle:
        for raw in handle:
            parts = raw.decode("utf-8").split()
            if len(parts) != 3:
                continue
            word, tag = parts[0], parts[2]
            if tag.startswith(("nr", "ns", "nt", "nz")):
                names.add(word)
            elif not tag.startswith(("n", "v", "e")):
                function.add(word)
    classes = frozenset(names), frozenset(function)
    if source.is_file():
        try:
            staging = cache.with_suffix(f".{os.getpid()}.tmp")
            staging.write_bytes(marshal.dumps(classes))
            os.replace(staging, cache)
        except OSError:  # an unwritable temp folder only costs the next process 0.3 s
            pass
    return classes


def word_class(word: str) -> str:
    """'name' (a person, place, organisation or brand in jieba's dictionary), 'content' (a noun or verb, an
    English word, or a word the dictionary lacks) or 'other' (figures, adverbs, particles, idioms...)."""
    if not word or any(ch.isdigit() for ch in word) or not _WORDISH.search(word):
        return "other"
    if word.isascii():
        return "content"
    word = simplify(word)  # the dictionary is Simplified
    names, function = _dictionary_classes()
    if word in names:
        return "name"
    if word in function:
        return "other"
    if not _in_dictionary(word):  # a word jieba guessed: a two-character guess is mostly a misfit
        return "content" if len(word) >= 3 else "other"
    return "content"


@lru_cache(maxsize=4096)
def general_specificity(word: str) -> float | None:
    """How specific a Chinese word is in Chinese at large, 0–1: log(total / count) / log(total) over the counts
    of jieba's dictionary (a large general corpus), so 想 0.38, 到底 0.51, 线束 0.94.

    For the words an indexed corpus never uses, whose specificity the corpus cannot tell: a client's
    everyday words ("到底", "有没有", "小厂") are no sign that a question is about something the documents
    lack, a rare term is. None for English, figures, names (specific whatever their count) and words the
    dictionary lacks. A fact of the language, the same for every corpus.
    """
    if not word or word.isascii() or any(ch.isdigit() for ch in word) or not _CJK.search(word):
        return None
    word = simplify(word)  # the dictionary is Simplified
    if word_class(word) == "name":
        return None
    count = _LAZY[0].get(word) if _LAZY else _jieba().dt.FREQ.get(word)
    total = int(_jieba().dt.total or 0)
    if not count or total <= 1:
        return None
    return min(1.0, max(0.0, math.log(total / count) / math.log(total)))


def words(text: str) -> list[str]:
    """jieba's words of `text` as written; a run of spaces is one " " (it separates words).

    Cut where the Simplified form is cut (the dictionary is Simplified), so Traditional text splits alike.
    """
    simple = simplify(text)
    if len(simple) != len(text):  # a phrase conversion changed the length: cut the text as it is
        return [w.strip() or " " for w in _cut(text) if w]
    out, at = [], 0
    for piece in _cut(simple):
        out.append(text[at : at + len(piece)].strip() or " ")
        at += len(piece)
    return [w for w in out if w]


def _stem(word: str) -> str:
    """A deliberately light English stemmer: plural and common inflection endings only."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + repl
    return word


def tokenize(text: str) -> list[str]:
    """Lexical tokens of folded text: jieba words for Chinese, stemmed words for English, no stopwords."""
    tokens: list[str] = []
    for raw in _cut(fold(text)):
        tok = raw.strip()
        if not tok or not _WORDISH.search(tok):
            continue
        if tok.isascii():
            if tok in EN_STOPWORDS or (len(tok) < 2 and not tok.isdigit()):
                continue
            tokens.append(_stem(tok))
        elif tok not in ZH_STOPWORDS:
            tokens.append(tok)
    return tokens


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences at 。！？；and . ! ? — each sentence is a verbatim slice of `text`."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        piece = text[start:end].strip()
        if piece:
            out.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


@lru_cache(maxsize=4096)
def pinyin_key(word: str) -> str:
    """Toneless pinyin of a Chinese word ('温州' → 'wenzhou'), to match romanised names in English questions."""
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word)).lower()
