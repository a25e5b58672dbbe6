"""Each pytest-xdist worker gets its own var directory (SQLite test database, SQLite broker, vault
key), so parallel workers never share a queue or a database file.

Loaded with `-p` (pyproject's addopts) because Django reads its settings in pytest-django's
`pytest_load_initial_conftests`, before any conftest; xdist sets PYTEST_XDIST_WORKER before that.
"""

from __future__ import annotations

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _base = Path(os.environ.get("FAILBRIEF_VAR_DIR") or Path(__file__).resolve().parents[2] / "var")
    os.environ["FAILBRIEF_VAR_DIR"] = str(_base / f"xdist-{_worker}")
