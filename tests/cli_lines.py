"""A command's output without its progress lines (written where stderr is no terminal, as
under the test runner: ``[   1.2 s] loading customers (step 1 of 13)``)."""

from __future__ import annotations

import re

PROGRESS_LINE = re.compile(r"^\[ *\d+\.\d s\] ")


def said(output: str) -> list[str]:
    """The lines of ``output`` that are not progress lines."""
    return [line for line in output.strip().splitlines() if not PROGRESS_LINE.match(line)]
