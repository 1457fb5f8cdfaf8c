"""Language helpers: detection, folding, tokens, sentences."""

from advisor.answer.condense import key_terms
from advisor.text import (
    collapse_ws,
    detect_lang,
    fold,
    general_specificity,
    has_content,
    simplify,
    split_sentences,
    tokenize,
    word_class,
    words,
)


def test_detect_lang_follows_the_dominant_language() -> None:
    assert detect_lang("我们园区企业很多但产值上不去，怎么办？") == "zh"
    assert detect_lang("How do I tell an agglomeration from a real cluster?") == "en"
    assert detect_lang("How is 产业集群 defined in the corpus?") == "en"
    assert detect_lang("cluster 和 agglomeration 有什么区别") == "zh"


def test_fold_maps_traditional_to_simplified_for_matching_only() -> None:
    assert fold("產業集群和產業集聚的區別") == "产业集群和产业集聚的区别"
    assert simplify("產業鏈") == "产业链"
    assert fold("Industrial CLUSTER") == "industrial cluster"


def test_tokenize_drops_stopwords_and_folds_scripts() -> None:
    tokens = tokenize("How do industrial clusters differ? 產業集群的區別")
    assert "cluster" in tokens and "industrial" in tokens
    assert "how" not in tokens and "do" not in tokens
    assert "产业" in tokens and "区别" in tokens
    assert "的" not in tokens


def test_split_sentences_keeps_verbatim_slices() -> None:
    text = "产业集群是一种形态。具备规模效应；二是空间邻近性？“好的。”然后 1. First point. Second one! 2.5 percent"
    sentences = split_sentences(text)
    assert sentences[:3] == ["产业集群是一种形态。", "具备规模效应；", "二是空间邻近性？"]
    assert all(s in text for s in sentences)
    assert "然后 1. First point." in sentences  # a list number is not a sentence end
    assert sentences[-2:] == ["Second one!", "2.5 percent"]  # nor is a decimal point
    assert collapse_ws(" ".join(sentences)).replace(" ", "") == text.replace(" ", "")


def test_has_content_rejects_punctuation_and_digits() -> None:
    assert not has_content("？？？ !!! 123 ...")
    assert has_content("集群")
    assert has_content("cluster")


def test_word_classes_come_from_the_dictionary_in_either_script() -> None:
    assert word_class("苏州") == "name" and word_class("蘇州") == "name"  # a place, Simplified or Traditional
    assert word_class("产业") == "content" and word_class("cluster") == "content"
    assert word_class("2023") == "other" and word_class("，") == "other"
    cut = words("產業集群 and small firms")
    assert cut[:2] == ["產業", "集群"]  # Traditional text is cut where its Simplified form is
    assert " " in cut  # spaces stay separators, so neighbouring English words do not run together
    assert key_terms("What is the 三阶定位法 that small firms use?")[1:3] == ["small", "firms"]


def test_names_and_key_terms_do_not_load_the_part_of_speech_tagger() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from advisor.answer.condense import key_terms\n"
        "from advisor.read.gate import unknown_names\n"
        "from advisor.retrieve.lexical import LexicalIndex\n"
        "from advisor.schema import Question\n"
        "key_terms('我们园区企业很多但产值上不去，怎么办？')\n"
        "print(unknown_names(Question('成都的园区怎么做？', 'zh'), LexicalIndex([])))\n"
        "print('jieba.posseg' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["('成都',)", "False"]  # ~90 MB of tagging tables stay unloaded


def test_word_classes_read_back_from_their_cache_are_the_dictionarys(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from advisor import text

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    text._dictionary_classes.cache_clear()
    built = text._dictionary_classes()  # parsed from dict.txt, then written
    assert len(list(tmp_path.glob("advisor-word-classes-*.marshal"))) == 1
    text._dictionary_classes.cache_clear()
    assert text._dictionary_classes() == built
    (next(tmp_path.glob("advisor-word-classes-*.marshal"))).write_bytes(b"garbage")
    text._dictionary_classes.cache_clear()
    assert text._dictionary_classes() == built  # a damaged file is parsed again, not trusted
    assert "苏州" in built[0] and "的" in built[1]


def test_general_specificity_tells_everyday_words_from_rare_terms() -> None:
    """For words a corpus never uses: jieba's general counts, a fact of Chinese, not of any corpus."""
    everyday = [general_specificity(w) for w in ("想", "到底", "有没有")]
    rare = [general_specificity(w) for w in ("线束", "营业额")]
    assert all(v is not None and 0.0 < v < 0.6 for v in everyday), everyday
    assert all(v is not None and v > 0.7 for v in rare), rare
    assert general_specificity("產業") == general_specificity("产业")  # Traditional folds the same way
    # no general figure for English, figures or names (a name is specific whatever its count)
    assert general_specificity("cluster") is None
    assert general_specificity("2023年") is None
    assert general_specificity("北京") is None


class _Corpus:
    """A vocabulary of a few words, each of middling specificity."""

    words = frozenset({"产业", "集群", "企业"})

    def knows(self, token: str) -> bool:
        return token in self.words

    def idf(self, token: str) -> float:
        return 0.4 if token in self.words else 1.0

    def pinyin_map(self) -> dict[str, list[str]]:
        return {}


def test_a_clients_everyday_words_do_not_make_a_question_about_something_the_corpus_lacks() -> None:
    """The reader's query weights: a word the corpus never uses weighs its general specificity, so "到底"
    counts for little and a rare term ("线束") for much; the corpus's own words keep the corpus's idf."""
    from advisor.read.features import absent_share, query_weights
    from advisor.schema import Question

    weights = query_weights(Question("我们到底算不算产业集群？", "zh"), _Corpus())
    assert weights["产业"] == weights["集群"] == 0.4
    assert weights["到底"] < 0.6
    everyday = absent_share(weights, _Corpus())
    rare = absent_share(query_weights(Question("我们线束算不算产业集群？", "zh"), _Corpus()), _Corpus())
    assert everyday < rare
