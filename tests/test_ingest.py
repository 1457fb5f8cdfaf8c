"""Loading and splitting the corpus: verbatim chunks, exact locations, aligned translations, no duplicates."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from advisor.ingest.align import align_lengths
from advisor.ingest.load import LoadError, iter_files, load_file
from advisor.ingest.split import MAX_CHARS, split_corpus, split_document
from advisor.text import collapse_ws

from .conftest import CORPUS, SEEDS

FIXTURES = Path(__file__).parent / "fixtures"


def _docs():
    return [load_file(p, r) for p, r in iter_files([CORPUS])]


def _chunks():
    return split_corpus(_docs())


def test_corpus_documents_carry_metadata() -> None:
    docs = {d.doc_id: d for d in _docs()}
    assert set(docs) == {
        "vcm-industrial-ecosystem",
        "vcm-industrial-ecosystem-excerpt",
        "vcm-industrial-cluster",
        "industrial-ecosystem-chain-operations",
        "cluster-vs-agglomeration",
        "industrial-ecosystem-chain-operations-en",
        "cluster-vs-agglomeration-en",
    }
    for doc in docs.values():
        assert doc.titles and doc.languages and doc.kind and doc.source_file.endswith(".txt")
    assert docs["cluster-vs-agglomeration-en"].translation_of == "cluster-vs-agglomeration"
    assert docs["vcm-industrial-cluster"].layout == "parallel"
    assert docs["vcm-industrial-ecosystem-excerpt"].excerpt_of == "vcm-industrial-ecosystem"


def test_corpus_bodies_are_the_seed_files_verbatim() -> None:
    """Every original is its seed byte for byte (checked against the seeds' recorded hashes); only files
    marked as this project's translations (`translation_of:`) are exempt."""
    hashes = json.loads((FIXTURES / "seed-sha256.json").read_text(encoding="utf-8"))
    originals = [d for d in _docs() if d.translation_of is None]
    assert {d.source_file for d in originals} == set(hashes)
    for doc in originals:
        assert hashlib.sha256(doc.body.encode("utf-8")).hexdigest() == hashes[doc.source_file], doc.doc_id
        if SEEDS.is_dir():
            assert doc.body == (SEEDS / doc.source_file).read_text(encoding="utf-8"), doc.doc_id


def test_translations_follow_their_original_line_for_line_with_every_figure() -> None:
    docs = {d.doc_id: d for d in _docs()}
    for doc in (d for d in docs.values() if d.translation_of):
        original = docs[doc.translation_of or ""]
        ours, theirs = doc.body.split("\n"), original.body.split("\n")
        assert len(ours) == len(theirs)
        for mine, source in zip(ours, theirs, strict=True):
            assert bool(mine.strip()) == bool(source.strip())
            for year in re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", source):
                assert year in mine, (doc.doc_id, year)


def test_a_translation_becomes_the_parallel_of_its_original() -> None:
    chunks = _chunks()
    by_id = {c.chunk_id: c for c in chunks}
    translated = [c for c in chunks if c.translated]
    assert {c.doc_id for c in translated} == {
        "industrial-ecosystem-chain-operations",
        "cluster-vs-agglomeration",
    }
    for chunk in translated:
        original = by_id[chunk.parallel_id or ""]
        assert chunk.lang == "en" and original.lang == "zh" and original.parallel_id == chunk.chunk_id
        assert chunk.path.endswith(".en.md") and not original.translated
        assert (chunk.line_start, chunk.line_end) == (original.line_start, original.line_end)


def test_a_translation_that_drifts_from_its_original_is_refused(tmp_path: Path) -> None:
    import dataclasses

    from advisor.ingest.split import TranslationError, with_translation

    docs = {d.doc_id: d for d in _docs()}
    original = docs["cluster-vs-agglomeration"]
    translation = docs["cluster-vs-agglomeration-en"]
    shorter = dataclasses.replace(translation, body="\n".join(translation.body.split("\n")[:-1]))
    with pytest.raises(TranslationError):
        with_translation(original, split_document(original), shorter)


def test_every_chunk_is_a_verbatim_slice_at_its_stated_lines() -> None:
    chunks = _chunks()
    assert len(chunks) > 30
    for chunk in chunks:
        lines = (CORPUS / Path(chunk.path).name).read_text(encoding="utf-8").split("\n")
        span = "\n".join(lines[chunk.line_start - 1 : chunk.line_end])
        assert chunk.text in span, chunk.chunk_id
        assert chunk.text.strip() == chunk.text


def test_excerpt_adds_no_duplicate_chunks() -> None:
    chunks = _chunks()
    assert not [c for c in chunks if c.doc_id == "vcm-industrial-ecosystem-excerpt"]
    texts = [collapse_ws(c.text) for c in chunks]
    assert len(texts) == len(set(texts))


def test_headings_and_list_stubs_are_merged_into_neighbours() -> None:
    chunks = _chunks()
    for chunk in chunks:
        assert len(chunk.text) >= 60, (chunk.chunk_id, chunk.text)
        assert (
            len(chunk.text) <= MAX_CHARS[chunk.lang] * 3
        )  # aligned translations may exceed the soft maximum
    heading = next(c for c in chunks if "三步法构建生态链" in c.text)
    assert "第一步先绘制产业基因图谱" in heading.text  # the heading travels with its paragraph


def test_parallel_sections_are_aligned_paragraph_by_paragraph() -> None:
    by_id = {c.chunk_id: c for c in _chunks()}
    pairs = {
        "产业生态并非传统意义上的线性产业链条": "An industrial ecosystem is not a traditional linear industrial chain",
        "对集群内市场主体而言": "For market players within a cluster",
        "此外,产业集群具备显著的创新溢出效应": "In addition, industrial clusters deliver prominent innovation spillover",
        "企业若要成功构建或融入产业集群生态": "To successfully build or integrate into an industrial cluster",
    }
    for zh_start, en_start in pairs.items():
        zh = next(c for c in by_id.values() if c.text.startswith(zh_start))
        assert zh.lang == "zh" and zh.parallel_id is not None
        en = by_id[zh.parallel_id]
        assert en.lang == "en" and en.text.startswith(en_start)
        assert en.parallel_id == zh.chunk_id
    # Split translations are merged: the Chinese paragraph 2 covers two English paragraphs.
    zh = next(c for c in by_id.values() if c.text.startswith("产业生态并非"))
    assert "Discarding the zero-sum game" in by_id[zh.parallel_id].text  # type: ignore[index]


def test_align_lengths_handles_splits_and_merges() -> None:
    assert align_lengths([100, 100], [460, 460]) == [(range(0, 1), range(0, 1)), (range(1, 2), range(1, 2))]
    beads = align_lengths([100, 280, 100], [460, 130, 370, 240, 560, 460])
    assert beads[1] == (range(1, 2), range(1, 5))
    assert align_lengths([], [1]) == []


def test_traditional_document_keeps_its_original_script() -> None:
    chunk = next(c for c in _chunks() if c.doc_id == "cluster-vs-agglomeration")
    assert "產業" in chunk.text  # displayed and cited text is never folded


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("binary.txt", b"\x00\x01\x02PK", "binary"),
        ("latin.txt", b"\xff\xfe\xfa\xfb" * 10 + b"\x81", "decoded"),
        ("sheet.xlsx", b"PK\x03\x04", "unsupported"),
        ("empty.md", b"---\nid: x\n---\n   \n", "no text"),
        ("bad.md", b"---\n: : [\n---\nbody", "front matter"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=message):
        load_file(path, tmp_path)


def test_plain_text_files_work_without_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "Notes on Parks.txt"
    path.write_bytes(
        "园区招商笔记\r\n\r\n产业园区应当围绕主导产业链招商，引入配套企业与公共服务平台，提升企业之间的协同效率和本地配套率。\r\n".encode(
            "gbk"
        )
    )
    doc = load_file(path, tmp_path)
    assert doc.doc_id == "notes-on-parks" and doc.titles == {"zh": "园区招商笔记"}
    chunks = split_document(doc)
    assert len(chunks) == 1 and chunks[0].text.startswith("产业园区应当")
