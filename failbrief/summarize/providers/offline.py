"""The offline summarizer: a Brief from the condensed context, with no model. Pure: no Django.

Used when no LLM is configured or the org has not opted in. Deterministic: the same context and
unit always give the same Brief. How it chooses:

- root cause: among the message lines of the error blocks (frames and source excerpts skipped),
  the most specific one: strong signal, names a concrete problem, not a mere wrapper such as
  "Bash command failed", in the most important block. A dbt heading ("Database Error in model X")
  is joined to its detail line.
- category: classify.py's rule table over the root-cause line first, then the other error lines,
  then the unit's state message (e.g. Prefect "SIGKILL ... memory" when the logs say nothing).
- suggested fix and meaning: fixes.py, one row per category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from failbrief.summarize import lines as ln
from failbrief.summarize.blocks import message_lines
from failbrief.summarize.classify import classify
from failbrief.summarize.condense import Context
from failbrief.summarize.fixes import FIXES
from failbrief.summarize.providers.base import Brief, FailedUnitInfo, Provider
from failbrief.summarize.signals import has_detail, is_benign, is_generic, line_score
from failbrief.summarize.steps import find_failing_step

MAX_BLOCKS_READ = 8
MAX_ROOT_CAUSE_CHARS = 400
MAX_EVIDENCE = 5
_DBT_HEADING = re.compile(
    r"^\s*(?:(?:Database|Compilation|Runtime|Internal|Parsing|Dependency) Error|Failure) in \w+ \S+"
)
_PYTEST_E = re.compile(r"^E\s{2,}")
_SPACES = re.compile(r"\s+")


# How much weaker than the best error block another may be and still be named in the evidence.
SIBLING_MARGIN = 15


@dataclass(frozen=True)
class _Candidate:
    score: int
    order: int
    line: str
    block: str
    messages: tuple[str, ...]


class OfflineProvider(Provider):
    """Rule-based Brief: root cause, failing step, category, evidence, fix. No network, no model."""

    name = "offline"

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        candidates = _candidates(context.error_blocks)
        step = context.failing_step or find_failing_step(context.error_blocks) or unit.task_name or None
        if not candidates:
            return _brief_without_log_evidence(unit, step)
        best = max(candidates, key=lambda c: (c.score, -c.order))
        root_cause, evidence = _root_cause(best)
        evidence = _with_sibling_failures(evidence, best, candidates)
        category, _rule = _category(best, root_cause, candidates, unit, context.text)
        confidence = _confidence(best, category)
        return Brief(
            root_cause=root_cause,
            failing_step=step,
            category=category,
            evidence=evidence,
            suggested_fix=FIXES[category].action,
            explanation=_explanation(step, category, root_cause),
            confidence=confidence,
        )


def _candidates(blocks: list[str]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for rank, block in enumerate(blocks[:MAX_BLOCKS_READ]):
        messages = tuple(message_lines(block.split("\n")))
        inherited = _inherited_signal(messages)
        for position, line in enumerate(messages):
            score = _specificity(line, rank, inherited if position else 0)
            if score is not None and position == 0 and inherited and _DBT_HEADING.match(_clean(line)):
                score -= 45  # the heading names the node; its detail line names the cause
            if score is not None:
                out.append(_Candidate(score, rank * 1000 + position, line, block, messages))
    return out


def _inherited_signal(messages: tuple[str, ...]) -> int:
    """A block's first line vouches for the detail lines under it ("Encountered an error:", dbt headings)."""
    if len(messages) < 2 or not any(has_detail(line) for line in messages[1:]):
        return 0
    return line_score(messages[0])


def _specificity(line: str, rank: int, inherited: int) -> int | None:
    """How well `line` states the cause; None for lines that cannot be a root cause."""
    if is_benign(line) or line.startswith("... ["):
        return None
    detail = has_detail(line)
    signal = max(line_score(line), inherited if detail else 0)
    if signal == 0 and not detail:
        return None
    score = signal + (25 if detail else 0) - 8 * rank
    score += 10 if ln.is_exception_line(_clean(line)) else 0
    return score - (45 if is_generic(line) else 0)


def _clean(line: str) -> str:
    """A log line without its prefix, pytest's `E` marker and runs of whitespace."""
    text = _PYTEST_E.sub("", ln.inner_text(line).strip())
    return _SPACES.sub(" ", text).strip()


def _root_cause(best: _Candidate) -> tuple[str, list[str]]:
    messages = list(best.messages)
    index = messages.index(best.line)
    evidence = [best.line]
    text = _clean(best.line)
    heading = messages[0] if index > 0 and _DBT_HEADING.match(_clean(messages[0])) else None
    if heading is not None:
        text = f"{_clean(heading)}: {text}"
        evidence.insert(0, heading)
    elif text.endswith(":") and index + 1 < len(messages):
        text = f"{text} {_clean(messages[index + 1])}"
        evidence.append(messages[index + 1])
    evidence += [m for m in messages[index + 1 :] if has_detail(m) and m not in evidence]
    return text[:MAX_ROOT_CAUSE_CHARS], evidence[:MAX_EVIDENCE]


def _with_sibling_failures(evidence: list[str], best: _Candidate, candidates: list[_Candidate]) -> list[str]:
    """Add the strongest line of every other error block that is nearly as strong as the best one:
    a dbt run where two tests fail, or two models, should name both."""
    strongest: dict[str, _Candidate] = {}
    for candidate in candidates:
        kept = strongest.get(candidate.block)
        if candidate.block != best.block and (kept is None or candidate.score > kept.score):
            strongest[candidate.block] = candidate
    siblings = sorted(
        (c for c in strongest.values() if c.score >= best.score - SIBLING_MARGIN), key=lambda c: c.order
    )
    for sibling in siblings:
        lines = [sibling.messages[0], sibling.line] if sibling.line != sibling.messages[0] else [sibling.line]
        evidence += [line for line in lines if line not in evidence]
    return evidence[:MAX_EVIDENCE]


def _category(
    best: _Candidate, root_cause: str, candidates: list[_Candidate], unit: FailedUnitInfo, text: str
) -> tuple[str, str]:
    ordered = sorted(candidates, key=lambda c: (-c.score, c.order))
    evidence = [(root_cause, best.block)] + [(c.line, c.block) for c in ordered]
    category, rule = classify(evidence, text)
    if category == "unknown" and unit.state_message:
        category, rule = classify([(unit.state_message, unit.state_message)])
    return category, rule


def _confidence(best: _Candidate, category: str) -> str:
    if category == "unknown":
        return "low"
    return "high" if best.score >= 80 else "medium"


def _explanation(step: str | None, category: str, root_cause: str) -> str:
    subject = f"The {step}" if step else "The run"
    cause = root_cause if len(root_cause) <= 200 else root_cause[:197] + "..."
    return f"{subject} failed with: {cause}. This looks like {FIXES[category].meaning}."


def _brief_without_log_evidence(unit: FailedUnitInfo, step: str | None) -> Brief:
    """No error line in the logs. A state message that names a known cause (a crash's "exited due
    to a SIGKILL signal ... memory limits") is the root cause; otherwise there is none, low confidence."""
    message = unit.state_message.strip()
    category = classify([(message, message)])[0] if message else "unknown"
    state = f" The run's final state says: {message}" if message else ""
    known = category != "unknown"
    return Brief(
        root_cause=message[:MAX_ROOT_CAUSE_CHARS] if known else None,
        failing_step=step,
        category=category,
        evidence=[message] if known else [],
        suggested_fix=FIXES[category].action,
        explanation=f"No error line was found in the logs.{state} This looks like {FIXES[category].meaning}.",
        confidence="medium" if known else "low",
    )
