"""`failbrief condense` and `failbrief summarize`: work on a log file with no server, DB or network.

Imports nothing from Django (directly or indirectly), so both commands run anywhere.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import click

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import DEFAULT_MAX_TOKENS, Context, condense, read_log_file, read_log_stream
from failbrief.condense.records import LogRecord
from failbrief.summarize.providers.offline import OfflineProvider


def _records(path: str) -> Iterator[LogRecord]:
    """Records of LOGFILE; `-` reads standard input."""
    if path == "-":
        return read_log_stream(sys.stdin.buffer)
    return read_log_file(path)


def _baseline(paths: tuple[str, ...]) -> Iterator[LogRecord] | None:
    if not paths:
        return None
    return (record for path in paths for record in read_log_file(path))


def _condense(logfile: str, max_tokens: int, baselines: tuple[str, ...] = ()) -> Context:
    return condense(_records(logfile), max_tokens, baseline=_baseline(baselines))


def _stats_line(context: Context) -> str:
    tokens_in = "?" if context.tokens_in is None else f"{context.tokens_in}"
    return (
        f"lines in {context.lines_in}, lines kept {context.lines_kept}, tokens in {tokens_in} "
        f"({context.tokens_in_method.split(' ')[0]}), tokens out {context.tokens}/{context.max_tokens}, "
        f"error blocks {len(context.error_blocks)} of {context.blocks_found} found, "
        f"time {context.elapsed_seconds:.3f}s"
    )


# exists=True: a mistyped path is one usage line (exit 2), not a FileNotFoundError traceback.
_LOGFILE = click.argument("logfile", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
_MAX_TOKENS = click.option(
    "--max-tokens", type=click.IntRange(min=50), default=DEFAULT_MAX_TOKENS, show_default=True,
    help="Token budget of the context (o200k_base).",
)  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@click.command("condense")
@_LOGFILE
@_MAX_TOKENS
@_JSON
@click.option(
    "--baseline", "baselines", multiple=True, type=click.Path(exists=True, dir_okay=False),
    help="Log of a recent successful run of the same unit (repeatable); its lines count as noise.",
)  # fmt: skip
def condense_command(logfile: str, max_tokens: int, as_json: bool, baselines: tuple[str, ...]) -> None:
    """Print the condensed, redacted context of LOGFILE (`-` for stdin) and its stats."""
    context = _condense(logfile, max_tokens, baselines)
    if as_json:
        click.echo(json.dumps({**context.stats(), "text": context.text, "error_blocks": context.error_blocks,
                               "last_lines": context.last_lines}, indent=2))  # fmt: skip
        return
    click.echo(context.text)
    click.echo(_stats_line(context), err=True)


@click.command("summarize")
@_LOGFILE
@_MAX_TOKENS
@_JSON
@click.option("--state-message", default="", help="The run's final state message, if known.")
def summarize_command(logfile: str, max_tokens: int, as_json: bool, state_message: str) -> None:
    """Print the offline root-cause summary of LOGFILE (`-` for stdin): no model, no network."""
    context = _condense(logfile, max_tokens)
    brief = OfflineProvider().write_brief(context, FailedUnitInfo(state_message=state_message))
    fields: dict[str, Any] = {
        "root_cause": brief.root_cause,
        "failing_step": brief.failing_step,
        "category": brief.category,
        "evidence": brief.evidence,
        "suggested_fix": brief.suggested_fix,
        "explanation": brief.explanation,
        "confidence": brief.confidence,
    }
    if as_json:
        click.echo(json.dumps({**fields, "stats": context.stats()}, indent=2))
        return
    for name, value in fields.items():
        if name == "evidence":
            click.echo("evidence:")
            for line in brief.evidence:
                click.echo(f"  | {line}")
            continue
        click.echo(f"{name.replace('_', ' ')}: {value if value is not None else '-'}")
    click.echo(_stats_line(context), err=True)
