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
from dataclasses import dataclass, replace

from failbrief.condense import lines as ln
from failbrief.condense.blocks import message_lines
from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context
from failbrief.condense.decide import (
    Decision,
    decide,
    decide_line,
    decide_state_message,
    lead_in_lines,
    other_lines,
)
from failbrief.condense.fixes import FIXES
from failbrief.condense.redact import redact
from failbrief.condense.scoring import has_detail, is_benign, is_generic, line_score
from failbrief.condense.steps import find_failing_step

MAX_BLOCKS_READ = 8
MAX_ROOT_CAUSE_CHARS = 400
MAX_EVIDENCE = 5
# A line outside the error blocks must name a concrete problem (has_detail) to become the root cause.
LOOSE_LINE_MIN_SCORE = 25
_WARNING = re.compile(r"\b(?:WARN|WARNING)\b|\[warn\s*\]|\bWarning:")
_DBT_HEADING = re.compile(
    r"^\s*(?:(?:Database|Compilation|Runtime|Internal|Parsing|Dependency) Error|Failure) in \w+ \S+"
)
# A dbt heading with nothing after it, alone or ending a line ("Failed to read package: Runtime Error").
_BARE_DBT_HEADING = re.compile(r"(?:^|: )(?:Database|Compilation|Runtime|Internal|Parsing|Dependency) Error$")
_PYTEST_E = re.compile(r"^E\s{2,}")
_SPACES = re.compile(r"\s+")
# A label with nothing after it ("Error:"): what follows it, often in another block, says what.
_BARE_LABEL = re.compile(r"\w+:")
_EXCEPTION_PREFIX = re.compile(r"(?:[\w$]+\.)*[\w$]*(?:Exception|Error):\s")


# How much weaker than the best error block another may be and still be named in the evidence.
SIBLING_MARGIN = 15


@dataclass(frozen=True)
class _Candidate:
    score: int
    order: int
    line: str
    block: str
    messages: tuple[str, ...]


def write_brief(context: Context, unit: FailedUnitInfo) -> Brief:
    """Rule-based Brief: root cause, failing step, category, evidence, fix. No network, no model.
    Redacted like the context: besides its lines, a brief quotes the unit's state message and name,
    which the condenser never saw (a crash whose logs just stop is explained from its message)."""
    brief = _write_brief(context, unit)
    return replace(
        brief,
        root_cause=redact(brief.root_cause) if brief.root_cause is not None else None,
        failing_step=redact(brief.failing_step) if brief.failing_step is not None else None,
        evidence=[redact(line) for line in brief.evidence],
        suggested_fix=redact(brief.suggested_fix),
        explanation=redact(brief.explanation),
    )


def _write_brief(context: Context, unit: FailedUnitInfo) -> Brief:
    candidates = _candidates(context.error_blocks)
    step = context.failing_step or find_failing_step(context.error_blocks) or unit.task_name or None
    if not candidates:
        # Blocks of frame lines only (a paste that glued `Caused by: ...` onto a frame) are
        # still read for a signal.
        decision = _decide_without_candidates(context, unit)
        if decision.line is not None and decision.line != unit.state_message.strip():
            return _brief_from_a_line_outside_blocks(decision, unit, step)
        return _brief_without_log_evidence(unit, step)
    best = max(candidates, key=lambda c: (c.score, -c.order))
    decision = _decide(best, candidates, unit, context)
    chosen = _deciding_candidate(decision, best, candidates)
    root_cause, evidence = _root_cause(chosen)
    if decision.line is not None and decision.block is None and decision.line != unit.state_message.strip():
        # The signal sits outside the error blocks (the lines just before the failure): it is
        # the root cause, the block's line stays as the failing step's context.
        root_cause = _clean(decision.line)[:MAX_ROOT_CAUSE_CHARS]
        evidence = [decision.line] + [line for line in evidence if line != decision.line]
    elif chosen is not best and best.line not in evidence:
        evidence.append(best.line)  # the wrapper that reported it: the failing step's context
    evidence = _with_sibling_failures(evidence[:MAX_EVIDENCE], chosen, candidates)
    return Brief(
        root_cause=root_cause,
        failing_step=step,
        category=decision.category,
        evidence=evidence,
        suggested_fix=suggested_fix(decision),
        explanation=_explanation(step, decision, root_cause),
        confidence=decision.confidence,
    )


def offline_decision(context: Context, unit: FailedUnitInfo) -> Decision:
    """The deciding evidence the offline brief would use: also the hint an LLM is given."""
    candidates = _candidates(context.error_blocks)
    if not candidates:
        return _decide_without_candidates(context, unit)
    best = max(candidates, key=lambda c: (c.score, -c.order))
    return _decide(best, candidates, unit, context)


def _decide_without_candidates(context: Context, unit: FailedUnitInfo) -> Decision:
    """No error block holds a message line: a specific signal anywhere, then the unit's state
    message, then the most error-like line of the rest of the context (a paste of a message logged
    at INFO, a library's complaint without an error level), which decides only as weakly as it can."""
    decision = decide(context.error_blocks[:MAX_BLOCKS_READ], context.text, (), unit.state_message)
    if decision.category != "unknown":
        return decision
    line = _loose_error_line(context.text)
    return decide_line(line, context.text) if line is not None else decision


def _loose_error_line(context_text: str) -> str | None:
    """The line outside the error blocks that best states a problem, the later one on ties; None
    when no line both looks like an error and names something concrete."""
    best: tuple[int, int, str] | None = None
    for order, line in enumerate(lead_in_lines(context_text) + other_lines(context_text)):
        if _WARNING.search(line):
            continue
        score = _specificity(line, 0, 0)
        if score is not None and score >= LOOSE_LINE_MIN_SCORE and (best is None or score >= best[0]):
            best = (score, order, line)
    return best[2] if best is not None else None


def _candidates(blocks: list[str]) -> list[_Candidate]:
    out: list[_Candidate] = []
    for rank, block in enumerate(blocks[:MAX_BLOCKS_READ]):
        messages = tuple(message_lines(block.split("\n")))
        inherited = _inherited_signal(messages)
        for position, line in enumerate(messages):
            # dbt prints a bare heading ("Runtime Error") and states the problem on the next line.
            previous = _clean(messages[position - 1]) if position else ""
            under_heading = _BARE_DBT_HEADING.search(previous) is not None
            vouched = line_score(messages[position - 1]) if under_heading else inherited if position else 0
            score = _specificity(line, rank, vouched, under_heading=under_heading)
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


def _specificity(line: str, rank: int, inherited: int, *, under_heading: bool = False) -> int | None:
    """How well `line` states the cause; None for lines that cannot be a root cause."""
    if is_benign(line) or line.startswith("... [") or _BARE_LABEL.fullmatch(_clean(line)):
        return None
    detail = under_heading or has_detail(line)
    signal = max(line_score(line), inherited if detail else 0)
    if signal == 0 and not detail:
        return None
    score = signal + (25 if detail else 0) - 8 * rank
    score += 10 if ln.is_exception_line(_clean(line)) else 0
    return score - (45 if is_generic(line) or is_generic(_clean(line)) else 0)


def _clean(line: str) -> str:
    """A log line without its prefix, pytest's `E` marker and runs of whitespace."""
    text = _PYTEST_E.sub("", ln.inner_text(line).strip())
    return _SPACES.sub(" ", text).strip()


def _from_glued_cause(text: str) -> str:
    """A frame line a paste glued a `Caused by: x.Error: message` onto: the cause, from its class on."""
    if not ln.is_frame(text) or "Caused by:" not in text:
        return text
    cause = text[text.index("Caused by:") + len("Caused by:") :].strip()
    exception = _EXCEPTION_PREFIX.match(cause)
    return cause[exception.end() :].strip() if exception and cause[exception.end() :].strip() else cause


def _root_cause(best: _Candidate) -> tuple[str, list[str]]:
    messages = list(best.messages)
    index = messages.index(best.line)
    evidence = [best.line]
    text = _clean(best.line)
    heading = messages[0] if index > 0 and _DBT_HEADING.match(_clean(messages[0])) else None
    if heading is not None:
        text = f"{_clean(heading)}: {text}"
        evidence.insert(0, heading)
    elif (text.endswith(":") or _BARE_DBT_HEADING.search(text)) and index + 1 < len(messages):
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


def _decide(
    best: _Candidate, candidates: list[_Candidate], unit: FailedUnitInfo, context: Context
) -> Decision:
    """The deciding evidence: the root-cause block first, then the other blocks, then the rest."""
    blocks = [best.block] + [block for block in context.error_blocks[:MAX_BLOCKS_READ] if block != best.block]
    ordered = sorted(candidates, key=lambda c: (-c.score, c.order))
    error_lines = [(c.line, c.block) for c in [best, *ordered]]
    return decide(blocks, context.text, error_lines, unit.state_message)


def _deciding_candidate(decision: Decision, best: _Candidate, candidates: list[_Candidate]) -> _Candidate:
    """The candidate line that carries the deciding signal, when it is one; else the best line."""
    if (
        decision.line is None
        or decision.block is None
        or decision.signal is None
        or not decision.signal.specific
    ):
        return best
    for candidate in candidates:
        if candidate.line == decision.line and candidate.block == decision.block:
            return candidate
    messages = tuple(message_lines(decision.block.split("\n")))
    return _Candidate(0, 10**6, decision.line, decision.block, messages)


def suggested_fix(decision: Decision) -> str:
    """What to check: the deciding signal's own check; hedged when a weaker rule decided; and,
    when nothing did, what to look at next rather than the fix of a category we are not sure of."""
    if decision.category == "unknown":
        return FIXES["unknown"].action
    check = decision.signal.check if decision.signal is not None else FIXES[decision.category].action
    if decision.confidence == "high":
        return check
    return f"Likely, not certain ({FIXES[decision.category].meaning}); check this first: {check}"


def _explanation(step: str | None, decision: Decision, root_cause: str) -> str:
    subject = f"The {step}" if step else "The run"
    cause = root_cause if len(root_cause) <= 200 else root_cause[:197] + "..."
    said = f"{subject} failed with: {cause}" + ("" if cause.endswith((".", "...")) else ".")
    if decision.category == "unknown":
        return (
            f"{said} No error code, status, exception class or exit signal in the logs names the cause, "
            "so this brief does not guess one."
        )
    meaning = FIXES[decision.category].meaning
    if decision.signal is None:
        return f"{said} This probably means {meaning}; no specific error code confirms it."
    if decision.confidence == "high":
        return f"{said} The {decision.signal.kind} in it means {meaning}."
    return (
        f"{said} The {decision.signal.kind} in it usually means {meaning}, but it has other causes "
        "often enough that this brief does not say so with certainty."
    )


def _brief_from_a_line_outside_blocks(decision: Decision, unit: FailedUnitInfo, step: str | None) -> Brief:
    """No error block, but a line of the context carries a specific signal (a paste of one message)."""
    assert decision.line is not None
    root_cause = _from_glued_cause(_clean(decision.line))[:MAX_ROOT_CAUSE_CHARS]
    return Brief(
        root_cause=root_cause,
        failing_step=step,
        category=decision.category,
        evidence=[decision.line],
        suggested_fix=suggested_fix(decision),
        explanation=_explanation(step, decision, root_cause),
        confidence=decision.confidence,
    )


def _brief_without_log_evidence(unit: FailedUnitInfo, step: str | None) -> Brief:
    """No error line in the logs. A state message that names a known cause (a crash's "exited due
    to a SIGKILL signal ... memory limits") is the root cause; otherwise there is none, low confidence."""
    message = unit.state_message.strip()
    decision = decide_state_message(message)
    state = f" The run's final state says: {message}" if message else ""
    known = decision.category != "unknown"
    return Brief(
        root_cause=message[:MAX_ROOT_CAUSE_CHARS] if known else None,
        failing_step=step,
        category=decision.category,
        evidence=[message] if known else [],
        suggested_fix=suggested_fix(decision),
        explanation=(
            f"No error line was found in the logs.{state} This looks like {FIXES[decision.category].meaning}."
        ),
        confidence=decision.confidence,
    )
