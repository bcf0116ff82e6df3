"""When an account was opened, as a moment a transfer's time can be compared with.

An opening date is stored as its UTC midnight (``model``), but the bank opened the account
on that day in its own zone: in Beijing the day begins at 16:00 UTC the day before. That zone
is the one the load read the files in (``relgraph.config.data_zone``), whatever the zone of
the process that reads the store. Compared as stored, an account opened on 14 May and used
at 01:00 that morning (17:00 UTC on the 13th) would look used before it was opened, and a
chain run through mules in the small hours of their first day would lose its
``new_accounts`` reason.

>>> from zoneinfo import ZoneInfo
>>> day = 1_778_716_800_000                     # 2026-05-14T00:00Z, how 14 May is stored
>>> opening_moments([day, -1], ZoneInfo("Asia/Shanghai")).tolist()
[1778688000000, -1]
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import numpy as np
import numpy.typing as npt

from relgraph.analytics.layering.params import I64


def opening_moments(days: npt.ArrayLike, zone: tzinfo) -> I64:
    """Per account: the first moment (epoch ms) of its opening day in ``zone`` (the data's,
    :func:`relgraph.config.data_zone`), from the day as stored; unknown (NaN or negative)
    is −1."""
    raw = np.asarray(days, np.float64)
    known = np.isfinite(raw) & (raw >= 0)
    out = np.full(len(raw), -1, np.int64)
    if not known.any():
        return out
    unique_days, inverse = np.unique(raw[known].astype(np.int64), return_inverse=True)
    starts = [
        int(datetime.fromtimestamp(d / 1000, UTC).replace(tzinfo=zone).timestamp() * 1000)
        for d in unique_days.tolist()
    ]
    # The day of 1970-01-01 begins before the epoch east of UTC; still a known opening.
    out[known] = np.maximum(np.asarray(starts, np.int64), 0)[inverse]
    return out
