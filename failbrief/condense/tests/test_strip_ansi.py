"""Colour codes come out of a whole block in one substitution exactly as they do line by line."""

from __future__ import annotations

import random

from failbrief.condense.lines import strip_ansi, strip_ansi_lines


def test_a_block_loses_its_colour_codes_as_each_of_its_lines_would():
    # dbt and Airflow logs keep codes whose ESC was lost on the way ("[0m", "[31m"), and some keep ESC.
    block = "[0m12:01:02  [31mFailure in test not_null[0m\n[0m  Got 3 results[0m\n\x1b[1mDone\x1b[0m"
    assert strip_ansi_lines(block) == ["12:01:02  Failure in test not_null", "  Got 3 results", "Done"]


def test_bracketed_text_that_is_not_a_colour_code_is_kept():
    block = "array[1] out of range\n[m] mode\nlist[10m]"
    assert strip_ansi_lines(block) == [strip_ansi(line) for line in block.split("\n")]
    assert strip_ansi_lines(block)[0] == "array[1] out of range"


def test_any_text_gives_the_same_lines_both_ways():
    pieces = ["[", "]", "0", "1", "31", ";", "m", "\x1b", "\x07", " ", "a", "\n", "[0m", "[1;31m"]
    rng = random.Random(14)
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
        assert strip_ansi_lines(text) == [strip_ansi(line) for line in text.split("\n")], repr(text)
