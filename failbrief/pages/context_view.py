"""The run page's view of a brief's condensed context: its lines, with the evidence lines marked.

Evidence is quoted verbatim from the context the brief was written from (the LLM's quotes are
checked against it, the offline rules copy its lines), so each quote is found in some line of the
stored context; a quote spanning lines is found line by line. What is marked is the quoted text
itself, not the whole line, so a quote out of a long line shows where it sits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    text: str
    marked: bool


@dataclass(frozen=True)
class ContextLine:
    segments: tuple[Segment, ...]

    @property
    def is_evidence(self) -> bool:
        return any(segment.marked for segment in self.segments)


@dataclass(frozen=True)
class ContextView:
    lines: list[ContextLine]
    # Evidence not found in the context (a brief stored with evidence from elsewhere): shown apart.
    unplaced: list[str]

    @property
    def evidence_lines(self) -> int:
        return sum(line.is_evidence for line in self.lines)


def context_view(context: str, evidence: Iterable[str]) -> ContextView:
    quotes = [quote for quote in evidence if quote.strip()]
    pieces = list(
        dict.fromkeys(piece.strip() for quote in quotes for piece in _lines(quote) if piece.strip())
    )
    lines = [_marked(text, pieces) for text in _lines(context)]
    unplaced = [
        quote
        for quote in quotes
        if not all(any(piece.strip() in text for text in _lines(context)) for piece in _lines(quote))
    ]
    return ContextView(lines, unplaced)


def _lines(text: str) -> list[str]:
    # Only "\n" ends a line: the page shows the context as it was stored, and str.splitlines would
    # also split at the form feeds and Unicode separators a log line may hold.
    return text.split("\n")


def _marked(text: str, pieces: list[str]) -> ContextLine:
    spans = sorted((start, start + len(piece)) for piece in pieces for start in _occurrences(text, piece))
    segments: list[Segment] = []
    done = 0
    for start, end in spans:
        if end <= done:
            continue
        start = max(start, done)
        if start > done:
            segments.append(Segment(text[done:start], marked=False))
        if segments and segments[-1].marked and start == done:
            segments[-1] = Segment(segments[-1].text + text[start:end], marked=True)
        else:
            segments.append(Segment(text[start:end], marked=True))
        done = end
    if done < len(text) or not segments:
        segments.append(Segment(text[done:], marked=False))
    return ContextLine(tuple(segments))


def _occurrences(text: str, piece: str) -> Iterable[int]:
    start = text.find(piece)
    while start != -1:
        yield start
        start = text.find(piece, start + len(piece))
