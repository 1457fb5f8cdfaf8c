"""Several knowledge bases: each its own corpus folder, index and uploads, one `Advisor` apiece.

The default ("") is the bundled corpus in HOME/index, exactly as without knowledge bases. Another lives in
HOME/kb/<name>/ (corpus/, index/, uploads/, kb.json with its title) and is chosen with `--kb`, on the page
or as the API's model `advisor:<name>`. All of them share the loaded encoders; each is built on first use.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import KB_NAME, Settings

if TYPE_CHECKING:
    from .core import Advisor
    from .documents import DocumentLibrary


class KnowledgeBaseError(ValueError):
    """A knowledge base that does not exist or cannot be made; the message says what to do."""


@dataclass(frozen=True)
class KnowledgeBase:
    """One knowledge base as listed: its name ("" = the bundled corpus), title and corpus folder."""

    name: str
    title: str
    corpus_dir: Path


def kb_root(settings: Settings, name: str) -> Path:
    return settings.home / "kb" / name


def for_kb(settings: Settings, name: str) -> Settings:
    """The settings of one knowledge base: same models and limits, its own corpus, index and uploads."""
    if name and not KB_NAME.match(name):
        raise KnowledgeBaseError(f"a knowledge base name is 1–40 of a-z 0-9 _ -, not {name!r}")
    return settings.model_copy(update={"kb": name})


def create_kb(settings: Settings, name: str, title: str = "") -> KnowledgeBase:
    """Make HOME/kb/<name>/ with an empty corpus folder to put documents in; an existing one is kept."""
    if not name or not KB_NAME.match(name):
        raise KnowledgeBaseError(f"a knowledge base name is 1–40 of a-z 0-9 _ -, not {name!r}")
    root = kb_root(settings, name)
    (root / "corpus").mkdir(parents=True, exist_ok=True)
    meta = root / "kb.json"
    if not meta.is_file() or title:
        meta.write_text(json.dumps({"title": title or name}, ensure_ascii=False), encoding="utf-8")
    return KnowledgeBase(name, title or name, root / "corpus")


def list_kbs(settings: Settings) -> list[KnowledgeBase]:
    """The bundled corpus first, then every HOME/kb/<name>/ that has a kb.json, by name."""
    found = [KnowledgeBase("", "", settings.corpus_dir)]
    root = settings.home / "kb"
    for meta in sorted(root.glob("*/kb.json")) if root.is_dir() else []:
        name = meta.parent.name
        if not KB_NAME.match(name):
            continue
        try:
            title = str(json.loads(meta.read_text(encoding="utf-8")).get("title") or name)
        except (OSError, ValueError, AttributeError):
            title = name
        found.append(KnowledgeBase(name, title, meta.parent / "corpus"))
    return found


class KnowledgeBases:
    """One Advisor (and document library) per knowledge base, built on first use, sharing the encoders."""

    def __init__(
        self, settings: Settings, default: Advisor, build: Callable[[Settings], Advisor] | None = None
    ) -> None:
        self.settings = settings
        self._cores: dict[str, Advisor] = {default.settings.kb: default}
        self._libraries: dict[str, DocumentLibrary] = {}
        self._build = build or self._same_models(default)
        self._lock = threading.Lock()

    @staticmethod
    def _same_models(default: Advisor) -> Callable[[Settings], Advisor]:
        def build(settings: Settings) -> Advisor:
            from .core import Advisor

            return Advisor(settings, embedders=default.embedders, chat_models=default.chat_models)

        return build

    def names(self) -> list[str]:
        return [kb.name for kb in list_kbs(self.settings)]

    def choices(self, lang: str) -> list[tuple[str, str]]:
        """(label, name) of every knowledge base, the bundled corpus labelled in `lang`."""
        from .i18n import t

        return [(kb.title or t(lang, "kb_default"), kb.name) for kb in list_kbs(self.settings)]

    def core(self, kb: str) -> Advisor:
        """The Advisor of a knowledge base, its index built on first use; KnowledgeBaseError when unknown."""
        with self._lock:
            if kb not in self._cores:
                if kb not in self.names():
                    raise KnowledgeBaseError(f"no knowledge base named {kb!r} (advisor kb create {kb})")
                core = self._build(for_kb(self.settings, kb))
                core.ensure_index()
                self._cores[kb] = core
            return self._cores[kb]

    def library(self, kb: str) -> DocumentLibrary:
        """The uploads of a knowledge base (documents added on the page go to the chosen one)."""
        from .documents import DocumentLibrary

        core = self.core(kb)
        with self._lock:
            if kb not in self._libraries:
                self._libraries[kb] = DocumentLibrary(core)
            return self._libraries[kb]
