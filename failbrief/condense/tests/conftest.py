"""Shared paths for the summarize tests: the corpus (FAILBRIEF_CORPUS_DIR) and the Prefect payloads."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
# The corpus every case of which is checked (point FAILBRIEF_CORPUS_DIR at another one to judge it)...
CORPUS_DIR = Path(os.environ.get("FAILBRIEF_CORPUS_DIR") or REPO / "testdata" / "corpus")
# ...and the repo's own copy, for tests that use one particular case.
DEV_CORPUS = REPO / "testdata" / "corpus"
PREFECT_DIR = REPO / "testdata" / "prefect"
