"""Uploads through advisor.documents: real parsers, a real Chroma index, the hash embedder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.documents import ChangeQueue, DocumentLibrary, Step, UploadError, display_name
from advisor.embed.fake import HashEmbedder


@pytest.fixture
def library(isolated_home: Path, corpus_copy: Path) -> DocumentLibrary:
    settings = Settings(home=isolated_home, corpus_dir=corpus_copy, max_upload_mb=1, upload_max_passages=40)
    advisor = Advisor(settings, [HashEmbedder()])
    advisor.ingest()
    return DocumentLibrary(advisor)


def _state(library: DocumentLibrary) -> tuple[set[str], int, list[str]]:
    files = sorted(p.name for p in library.uploads_dir.glob("*")) if library.uploads_dir.exists() else []
    return {s.doc_id for s in library.advisor.sources()}, len(library.advisor.index.chunks()), files


def test_text_upload_is_stored_by_id_and_answerable(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "notes.txt"
    src.write_text("光谷园区笔记\n\n光谷园区设立了共享检测平台，为中小企业提供检测服务。\n", encoding="utf-8")
    result = library.add(src, "notes.txt")
    stored = library.uploads_dir / f"{result.doc_id}.md"
    assert stored.is_file() and result.lang == "zh" and result.chunks >= 1
    text = stored.read_text(encoding="utf-8")
    assert text.startswith("---\nid: upload-") and "source_file: notes.txt" in text
    row = next(r for r in library.documents() if r.doc_id == result.doc_id)
    assert row.removable and row.title == "光谷园区笔记"
    answer = library.advisor.retrieve(
        __import__("advisor.answer.question").answer.question.prepare_question("共享检测平台", 1000),
        mode="bm25",  # the hash embedder's dense ranks are noise: fused, the upload's rank varies by machine
    )
    assert any(p.chunk.doc_id == result.doc_id for p in answer.passages)


def test_traversal_looking_name_never_becomes_a_path(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "upload.bin"
    src.write_text("Shared services\n\nThe park runs a shared testing lab for suppliers.\n", encoding="utf-8")
    result = library.add(src, "../../etc/passwd.txt")
    assert result.original_name == "passwd.txt"
    assert [p.name for p in library.uploads_dir.iterdir()] == [f"{result.doc_id}.md"]
    assert display_name("C:\\Users\\x\\..\\报告.pdf") == "报告.pdf"
    assert display_name("../../") == "document"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x00", "unsupported file type"),
        ("noext", b"hello", "unsupported file type"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"\n \n\t\n", "no text"),
        ("binary.txt", b"\x00\x01\x02 abc", "binary"),
        ("bad.pdf", b"%PDF-1.4 this is not really a pdf", "PDF"),
        ("bad.docx", b"PK not a zip", "Word"),
        ("empty.html", b"<html><body></body></html>", "no text"),
    ],
)
def test_bad_files_are_refused_and_leave_the_index_unchanged(
    library: DocumentLibrary, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    before = _state(library)
    src = tmp_path / "incoming"
    src.write_bytes(content)
    with pytest.raises(UploadError, match=message):
        library.add(src, name)
    assert _state(library) == before


def test_oversize_file_is_refused(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "big.txt"
    src.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(UploadError, match="over the 1 MB limit"):
        library.add(src, "big.txt")


def test_failed_indexing_rolls_back(
    library: DocumentLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(library)
    src = tmp_path / "ok.md"
    src.write_text("A park\n\nThe park shares a kiln.\n", encoding="utf-8")
    store = library.advisor.index.vectors()[0]
    real_replace = store.replace_document
    calls = []

    def failing_replace(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("embedding server went away")
        return real_replace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "replace_document", failing_replace)
    with pytest.raises(RuntimeError):
        library.add(src, "ok.md")
    assert _state(library) == before


def test_docx_pdf_and_html_uploads(library: DocumentLibrary, tmp_path: Path) -> None:
    import docx
    from pypdf import PdfWriter

    word = tmp_path / "a.docx"
    document = docx.Document()
    document.add_paragraph("Kiln sharing")
    document.add_paragraph("The ceramic park shares one kiln among its glaze makers.")
    document.save(str(word))
    assert library.add(word, "kiln.docx").title == "Kiln sharing"

    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>Port logistics</title></head><body><article><h1>Port logistics</h1>"
        "<p>The port cluster coordinates trucking slots across all terminals every morning.</p>"
        "<p>Shared scheduling cut waiting times for hauliers in the port cluster.</p></article></body></html>",
        encoding="utf-8",
    )
    assert library.add(page, "port.html").title == "Port logistics"

    blank_pdf = tmp_path / "blank.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with blank_pdf.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(UploadError, match="no text"):
        library.add(blank_pdf, "scan.pdf")


def test_remove_deletes_uploads_only(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "x.md"
    src.write_text("Kiln notes\n\nThe park shares a kiln.\n", encoding="utf-8")
    before = _state(library)
    result = library.add(src, "x.md")
    assert library.remove(result.doc_id) == "Kiln notes"
    assert _state(library) == before
    with pytest.raises(UploadError, match="cannot be removed"):
        library.remove("cluster-vs-agglomeration")
    with pytest.raises(UploadError, match="no uploaded document"):
        library.remove("../../etc/passwd")


def test_the_same_file_twice_is_refused_by_content_not_listed_as_an_empty_row(
    library: DocumentLibrary, tmp_path: Path
) -> None:
    src = tmp_path / "kiln.md"
    src.write_text(
        "Kiln notes\n\nThe ceramic park shares one kiln among its glaze makers.\n", encoding="utf-8"
    )
    library.add(src, "kiln.md")
    before = _state(library)
    with pytest.raises(UploadError) as caught:
        library.add(src, "kiln-copy.md")
    assert caught.value.key == "err_duplicate" and "Kiln notes" in caught.value.message("en")
    assert "已在索引中" in caught.value.message("zh")
    assert _state(library) == before and all(r.chunks > 0 for r in library.documents() if r.removable)


def test_a_corpus_document_uploaded_again_adds_nothing_and_says_so(
    library: DocumentLibrary, corpus_copy: Path, tmp_path: Path
) -> None:
    before = _state(library)
    with pytest.raises(UploadError) as caught:
        library.add(corpus_copy / "cluster-vs-agglomeration.md", "cluster.md")
    assert caught.value.key == "err_duplicate" and "產業集群和產業集聚的區別" in caught.value.message("en")
    assert _state(library) == before  # the corpus document keeps its passages


def test_stored_copies_are_private(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "n.txt"
    src.write_text("Port notes\n\nThe port cluster shares a customs broker.\n", encoding="utf-8")
    result = library.add(src, "n.txt")
    assert (library.uploads_dir / f"{result.doc_id}.md").stat().st_mode & 0o777 == 0o600
    assert library.uploads_dir.stat().st_mode & 0o777 == 0o700


def test_an_upload_over_the_passage_cap_is_refused_before_embedding(
    library: DocumentLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "long.txt"
    src.write_text(
        "\n\n".join(f"Paragraph {i} about the shared kiln number {i} in the park." for i in range(400)),
        encoding="utf-8",
    )
    monkeypatch.setattr(library.advisor, "add_document", lambda *_, **__: pytest.fail("embedding started"))
    before = _state(library)
    with pytest.raises(UploadError, match="one upload may add at most 40") as caught:
        library.add(src, "long.txt")
    assert "ADVISOR_UPLOAD_MAX_PASSAGES" in caught.value.message("zh")
    assert _state(library) == before


def test_rows_name_corpus_files_and_carry_date_and_size(library: DocumentLibrary, tmp_path: Path) -> None:
    src = tmp_path / "n.txt"
    src.write_text("Port notes\n\nThe port cluster shares a customs broker.\n", encoding="utf-8")
    steps: list[Step] = []
    result = library.add(src, "n.txt", report=steps.append)
    rows = {r.doc_id: r for r in library.documents()}
    corpus = rows["cluster-vs-agglomeration"]
    assert corpus.source_file == "corpus/cluster-vs-agglomeration.md" and corpus.date == "2025-09-16"
    assert corpus.size_bytes and corpus.size_bytes > 1000 and not corpus.removable
    upload = rows[result.doc_id]
    assert (
        upload.source_file == "n.txt" and len(upload.date) == 10 and upload.size_bytes == src.stat().st_size
    )
    assert [s.stage for s in steps][:2] == ["reading", "indexing"] and steps[1].total >= 1


def test_changes_queue_and_a_waiter_hears_its_place() -> None:
    queue = ChangeQueue()
    heard: list[int] = []
    inside = threading.Event()

    def first() -> None:
        with queue.turn():
            inside.set()
            time.sleep(0.3)

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait()
    with queue.turn(heard.append):
        pass
    thread.join()
    assert heard and heard[0] == 1


def _three_page_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=5)  # long lines: each page stays a passage of its own
    texts = [
        "Harbor Lane annual report. The park grew its exports by a third this year, mostly in motors for "
        "electric buses, and its five anchor makers hired two hundred new welding technicians between them.",
        "",  # a blank page: numbering still counts it
        "The shared servo motor laboratory opened in March and serves forty suppliers of the park, who "
        "used to send every prototype abroad for testing and now wait two days instead of six weeks.",
    ]
    for text in texts:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


def test_an_uploaded_pdf_is_located_by_its_own_name_and_page(
    library: DocumentLibrary, tmp_path: Path
) -> None:
    result = library.add(_three_page_pdf(tmp_path / "upload.bin"), "Harbor report.pdf")
    stored = (library.uploads_dir / f"{result.doc_id}.md").read_text(encoding="utf-8")
    assert "pages: 1:0 3:" in stored  # page 2 is blank: no text starts there
    chunks = [c for c in library.advisor.retriever().chunks.values() if c.doc_id == result.doc_id]
    places = {c.location for c in chunks}
    assert places and all(p.startswith("Harbor report.pdf, p") for p in places)
    lab = next(c for c in chunks if "servo motor laboratory" in c.text)
    assert lab.location == "Harbor report.pdf, p. 3"
    assert next(c for c in chunks if "annual report" in c.text).location == "Harbor report.pdf, p. 1"


def test_an_upload_belongs_to_its_uploader(library: DocumentLibrary, tmp_path: Path) -> None:
    from advisor.auth import Access, UserRecord, hash_password, write_users

    users = tmp_path / "users.json"
    write_users(
        users, {"alice": UserRecord(hash_password("a" * 8)), "root": UserRecord(hash_password("r" * 8), True)}
    )
    access = Access(Settings(users_file=users))
    src = tmp_path / "notes.txt"
    src.write_text(
        "Dock notes\n\nDock Seven lends its cranes to the motor park's suppliers.\n", encoding="utf-8"
    )
    result = library.add(src, "notes.txt", owner="alice")
    assert library.owner_of(result.doc_id) == "alice"
    assert next(r for r in library.documents() if r.doc_id == result.doc_id).owner == "alice"
    with pytest.raises(UploadError) as caught:
        library.remove(result.doc_id, allowed=lambda owner: access.may_remove("bob", owner))
    assert caught.value.key == "err_not_owner" and "alice" in caught.value.message("en")
    assert library.title_of(result.doc_id) is not None  # still there
    library.remove(result.doc_id, allowed=lambda owner: access.may_remove("root", owner))
    assert library.title_of(result.doc_id) is None
