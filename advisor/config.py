"""One settings object, built at the entry point (env vars with the ADVISOR_ prefix, or a TOML file)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"  # package data: an installed wheel has them too

# Who writes the answers: the one list every surface reads (the CLI's --backend, the settings, the LLM module).
Backend = Literal["extractive", "openai", "ollama"]
BACKENDS: tuple[str, ...] = get_args(Backend)
LLM_BACKENDS: tuple[str, ...] = tuple(b for b in BACKENDS if b != "extractive")
KB_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")  # a knowledge base's name is also its folder's


def _default_home() -> Path:
    """Where the index, caches and model live unless ADVISOR_HOME says otherwise."""
    return REPO_ROOT / ".advisor-home"


class Settings(BaseSettings):
    """Everything configurable about advisor; read once at the entry point and passed down."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Index, caches, uploads and models.")
    corpus_dir: Path = Field(default=REPO_ROOT / "corpus", description="The curated corpus (always indexed).")
    models_dir: Path | None = Field(default=None, description="Model cache; defaults to HOME/models.")
    embedding_model: str = Field(
        default="",
        description="A sentence-transformers name or path; empty means the bundled multilingual-e5-small.",
    )
    embedding_url: str = Field(
        default="",
        description="Base URL of an OpenAI-compatible embeddings server; replaces the local model.",
    )
    embedding_api_key: SecretStr | None = None
    cross_lingual_encoder: Literal["use", "none"] = Field(
        default="use", description="Second dense encoder that bridges languages (USE multilingual v3)."
    )
    chroma_url: str = Field(default="", description="http://host:port of a Chroma server; empty = local.")
    shared_dir: Path | None = Field(
        default=None,
        description="A folder every worker and ingest sees (a shared disk in server mode): index versions "
        "(chunk table, lexical index), ingest records and uploaded documents. Default: HOME/index, HOME/uploads.",
    )
    index_check_s: float = Field(
        default=2.0, ge=0, le=3600, description="How often a process checks for a newer index version."
    )

    reader: Literal["features", "none"] = Field(
        default="features",
        description="Who reads the retrieved passages to rerank them and decide answer or refuse: the trained "
        "feature reader, or none (answer whatever is retrieved; needed for encoders other than the bundled ones).",
    )
    top_k: int = Field(default=5, ge=1, le=20, description="Passages handed to the answerer.")
    candidates: int = Field(default=30, ge=5, le=200, description="Candidates per retriever and language.")
    max_question_chars: int = Field(default=1000, ge=50, le=20000)

    llm_backend: Backend = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: SecretStr | None = None
    llm_timeout_s: float = Field(
        default=30.0, gt=0, description="Total time for one question's model calls, retries included."
    )
    llm_retries: int = Field(default=2, ge=0, le=5, description="Retries after a failed model call.")
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_thinking: Literal["auto", "off"] = Field(
        default="auto",
        description="auto: a reasoning model thinks as it likes; off: ask it not to (Qwen3 enable_thinking, Ollama think).",
    )
    judge_base_url: str = Field(default="", description="The eval's LLM judge; empty = llm_base_url.")
    judge_model: str = Field(default="", description="The judge's model name; empty = llm_model.")
    judge_api_key: SecretStr | None = None
    prompts_dir: Path = Field(default=PROMPTS_DIR, description="Folder of the *.j2 prompt files.")

    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    max_upload_mb: int = Field(
        default=20, ge=1, le=500, description="Largest file, and most extracted text, one upload may have."
    )
    upload_max_passages: int = Field(
        default=2000,
        ge=1,
        le=1_000_000,
        description="Work cap per upload: more passages than this are refused before embedding (~4 min at 2,000).",
    )
    feedback_per_minute: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="Ratings one client may send per minute (page and /feedback).",
    )
    web_concurrency: int = Field(
        default=4, ge=1, le=64, description="Questions answered at once by the web page."
    )
    web_queue_size: int = Field(
        default=64, ge=1, le=10000, description="Requests that may wait in the web queue."
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated bearer keys for the OpenAI-compatible API (/v1); unset: no key is asked "
        "for unless a login is configured. Never logged.",
    )
    users_file: Path | None = Field(
        default=None,
        description="A JSON file of users with scrypt-hashed passwords (`advisor users add`): the page asks "
        "them to sign in. Unset, with no auth_header either: no login, as before.",
    )
    auth_header: str = Field(
        default="",
        description="A header carrying the signed-in user from a reverse proxy (e.g. X-Forwarded-User), "
        "believed only from trusted_proxies.",
    )
    trusted_proxies: str = Field(
        default="127.0.0.1,::1", description="Comma-separated peer addresses whose auth_header is believed."
    )
    admins: str = Field(default="", description="Comma-separated user names who may remove anyone's uploads.")
    kb: str = Field(
        default="",
        description="The knowledge base to use (HOME/kb/<name>/); empty: the bundled corpus.",
    )

    @field_validator(
        "home", "corpus_dir", "models_dir", "prompts_dir", "shared_dir", "users_file", mode="after"
    )
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("kb", mode="after")
    @classmethod
    def _kb_name(cls, value: str) -> str:
        if value and not KB_NAME.match(value):
            raise ValueError(f"a knowledge base name is 1–40 of a-z 0-9 _ -, not {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Precedence: explicit arguments > environment > TOML file (ADVISOR_CONFIG or HOME/config.toml)."""
        toml_path = os.environ.get("ADVISOR_CONFIG")
        if not toml_path:
            home = Path(os.environ.get("ADVISOR_HOME") or _default_home()).expanduser()
            toml_path = str(home / "config.toml")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(toml_path).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    # Derived locations: computed, never stored, so one HOME moves everything.
    @property
    def model_cache(self) -> Path:
        return self.models_dir or self.home / "models"

    @property
    def kb_dir(self) -> Path:
        """Where this knowledge base keeps its index and uploads: HOME itself for the bundled corpus."""
        return self.home / "kb" / self.kb if self.kb else self.home

    @property
    def kb_corpus_dir(self) -> Path:
        """The documents of the chosen knowledge base: `corpus_dir`, or HOME/kb/<name>/corpus."""
        return self.kb_dir / "corpus" if self.kb else self.corpus_dir

    @property
    def index_dir(self) -> Path:
        return self.kb_dir / "index"

    @property
    def kb_shared_dir(self) -> Path | None:
        """The chosen knowledge base's part of the shared folder (index versions, records, uploads), if any."""
        if self.shared_dir is None or not self.kb:
            return self.shared_dir
        return self.shared_dir / "kb" / self.kb

    @property
    def uploads_dir(self) -> Path:
        """Uploaded documents: in the shared folder when there is one, so every worker and ingest finds them."""
        return (self.kb_shared_dir or self.kb_dir) / "uploads"

    @property
    def web_temp_dir(self) -> Path:
        """Where the web server receives files (GRADIO_TEMP_DIR): under HOME, emptied at every start."""
        return self.home / "web-tmp"

    @property
    def feedback_path(self) -> Path:
        return self.home / "feedback.sqlite"

    @property
    def conversations_path(self) -> Path:
        return self.home / "conversations.sqlite"

    @property
    def login_configured(self) -> bool:
        """Whether the page asks who you are: a users file or a trusted proxy header."""
        return self.users_file is not None or bool(self.auth_header)

    @property
    def collection_prefix(self) -> str:
        """Chroma collection names of this knowledge base: apart on one server, 'chunks' for the default."""
        return f"kb-{self.kb}" if self.kb else "chunks"

    @property
    def judge_key(self) -> str | None:
        """The judge's key: ADVISOR_JUDGE_API_KEY, else the LLM's."""
        return self.judge_api_key.get_secret_value() if self.judge_api_key is not None else self.api_key

    @property
    def assessments_dir(self) -> Path:
        return self.home / "assessments"

    @property
    def api_key(self) -> str | None:
        """The LLM key from ADVISOR_LLM_API_KEY, else the usual OPENAI_API_KEY; never logged."""
        if self.llm_api_key is not None:
            return self.llm_api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY") or None
