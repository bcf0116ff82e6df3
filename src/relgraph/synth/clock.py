"""The bank's calendar: snapshot date and the transfer window, as epoch days and seconds."""

from __future__ import annotations

from typing import Final

import numpy as np

DAY: Final = 86_400
HOUR: Final = 3_600
MINUTE: Final = 60


def day(year: int, month: int, dom: int) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return int(np.datetime64(f"{year:04d}-{month:02d}-{dom:02d}", "D").astype(np.int64))


SNAPSHOT_DAY: Final = day(2026, 9, 1)
"""The extract date: nothing happens on or after it."""
WINDOW_START: Final = day(2026, 6, 1) * DAY
"""First second of the transfer window."""
WINDOW_END: Final = SNAPSHOT_DAY * DAY
"""End (exclusive) of the transfer window: 92 days after its start."""
MONTH_STARTS: Final = (day(2026, 6, 1), day(2026, 7, 1), day(2026, 8, 1))
"""First day of each month in the window (salaries and bills are monthly)."""
YEAR_DAYS: Final = 365.25
