"""The data year (2025) in seconds, seasonal day weights and time-of-day draws.

Spring Festival 2025 fell on 29 January; the festival window (22 January – 12 February)
carries red-envelope gifts and a shopping peak. Other peaks: the 618 sale (1–18 June),
National Day Golden Week (1–7 October), Singles' Day (1–11 November) and 12.12.
"""

from __future__ import annotations

from typing import Final

import numpy as np

YEAR_START: Final = np.datetime64("2025-01-01T00:00:00")
DAYS: Final = 365
DAY: Final = 86400
SPRING_FESTIVAL: Final = (21, 42)
"""Day-of-year window (0-based) of the festival season: 22 January – 12 February."""
_PEAKS: Final = (
    ((21, 42), 2.2),  # Spring Festival season
    ((151, 169), 1.3),  # 618
    ((273, 280), 1.6),  # Golden Week
    ((304, 315), 2.0),  # Singles' Day
    ((345, 347), 1.3),  # 12.12
)
MONTH_START_DAY: Final = np.array(
    [
        (np.datetime64(f"2025-{m:02d}-01") - np.datetime64("2025-01-01")).astype(int)
        for m in range(1, 13)
    ]
)


def spending_weights() -> np.ndarray:
    """Relative shopping intensity per day of the year."""
    w = np.ones(DAYS)
    weekday = (np.arange(DAYS) + 2) % 7  # 2025-01-01 was a Wednesday (0 = Monday)
    w[weekday >= 5] *= 1.2
    for (lo, hi), factor in _PEAKS:
        w[lo:hi] *= factor
    weights: np.ndarray = w / w.sum()
    return weights


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day: morning, lunch and evening peaks (normal mixture)."""
    centre = rng.choice(np.array([9.5, 12.5, 19.5]), size=n, p=[0.2, 0.35, 0.45])
    spread = np.where(centre == 19.5, 2.0, 1.5)
    hours = np.clip(rng.normal(centre, spread), 0.0, 23.99)
    return (hours * 3600).astype(np.int64)


def days(rng: np.random.Generator, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Days of the year, uniformly or by ``weights``."""
    if weights is None:
        return rng.integers(0, DAYS, size=n)
    return rng.choice(DAYS, size=n, p=weights)


def monthly(day_of_month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entity index, day of year) for each entity on ``day_of_month`` (1–28) of every month."""
    n = day_of_month.size
    entity = np.repeat(np.arange(n), 12)
    month = np.tile(np.arange(12), n)
    return entity, MONTH_START_DAY[month] + day_of_month[entity] - 1


def timestamps(seconds: np.ndarray) -> np.ndarray:
    """ISO-8601 text of seconds after the start of the year."""
    when = YEAR_START + seconds.astype("timedelta64[s]")
    return np.datetime_as_string(when, unit="s")
