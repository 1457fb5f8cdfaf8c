"""The web page, for `python app.py`: a thin adapter over the same core as the CLI.

Binds to ADVISOR_HOST:ADVISOR_PORT (127.0.0.1:7860 by default); see `advisor serve --help` for a team setup.
"""

from __future__ import annotations

from advisor.cli import offline_environment

offline_environment()

from advisor.config import Settings  # noqa: E402
from advisor.web.server import create, launch  # noqa: E402

if __name__ == "__main__":
    settings = Settings()
    launch(create(settings), settings.host, settings.port)
