"""Exact, offline token counts (o200k_base, bundled by bpe-openai). Pure: no Django.

The same counter enforces the condenser's budget, so a context reported as N tokens is N tokens.

bpe-openai's Python package eagerly decodes every bundled rank table when imported (about 1 s),
although its Rust tokenizer carries its own tables. We load the Rust extension module directly
(about 0.05 s) and fall back to the public API if that ever fails; both give identical counts.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

ENCODING_NAME = "o200k_base"
# bpe-openai refuses single inputs of 1M characters; count long texts in newline-aligned pieces.
_PIECE_CHARS = 200_000


@lru_cache(maxsize=1)
def _counter() -> Any:
    try:
        return _rust_tokenizer()
    except (ImportError, OSError, AttributeError, StopIteration):
        import bpe_openai

        encoding = bpe_openai.get_encoding(ENCODING_NAME)
        return _PublicCounter(encoding)


def _rust_tokenizer() -> Any:
    package = importlib.util.find_spec("bpe_openai")  # locates the package without running it
    if package is None or not package.submodule_search_locations:
        raise ImportError("bpe_openai is not installed")
    folder = Path(next(iter(package.submodule_search_locations)))
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    library = next(
        path
        for path in folder.iterdir()
        if path.name.startswith("_bindings.") and path.name.endswith(suffixes)
    )
    spec = importlib.util.spec_from_file_location("bpe_openai._bindings", library)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load bpe_openai._bindings")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tokenizer_for_encoding(ENCODING_NAME)


class _PublicCounter:
    """The public bpe_openai API behind the Rust tokenizer's `count` method."""

    def __init__(self, encoding: Any) -> None:
        self.encoding = encoding

    def count(self, text: str) -> int:
        return len(self.encoding.encode_ordinary(text))


def count_tokens(text: str) -> int:
    """Number of o200k_base tokens in `text`; special-token text is counted as ordinary text."""
    if not text:
        return 0
    counter = _counter()
    if len(text) <= _PIECE_CHARS:
        return int(counter.count(text))
    return sum(int(counter.count(piece)) for piece in _pieces(text))


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + _PIECE_CHARS)
        cut = text.rfind("\n", start, end) + 1 if end < len(text) else end
        end = cut if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces
