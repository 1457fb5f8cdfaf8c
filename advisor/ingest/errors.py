"""Why a file could not be read, for every caller of ingest (the index, uploads, the CLI)."""

from __future__ import annotations

from ..i18n import LocalizedError


class LoadError(ValueError):
    """A file that cannot become a Document; the message says why and what to do."""


class ConvertError(LocalizedError, LoadError):
    """A file that cannot be turned into text; the message names the file and the limit it broke."""
