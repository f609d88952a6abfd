"""Shared constants and vectorised time sampling for the demo data generator.

Times are int64 seconds since the Unix epoch (naive, meaning UTC) until they are written,
so every step stays a cheap numpy operation even at tens of millions of rows.
"""

from __future__ import annotations

import numpy as np

DAY = 86_400
HOUR = 3_600


def _epoch(text: str) -> int:
    """Seconds since the epoch of an ISO timestamp, so constants read as dates."""
    return int(np.datetime64(text, "s").astype(np.int64))


START = _epoch("2024-01-01T00:00:00")
END = _epoch("2025-07-01T00:00:00")  # exclusive: data covers 2024-01-01 .. 2025-06-30
N_DAYS = (END - START) // DAY
SPIKE_DAY = _epoch("2025-03-14T00:00:00")

COUNTRIES = ["US", "IN", "GB", "BR", "DE", "FR", "ES", "AU"]
COUNTRY_P = [0.32, 0.18, 0.12, 0.10, 0.09, 0.08, 0.06, 0.05]
REGIONS = ["NA-East", "NA-West", "EU-North", "EU-South", "LATAM", "APAC"]
REGION_P = [0.20, 0.14, 0.22, 0.14, 0.12, 0.18]
# Home region of each country (US splits between the two NA regions).
COUNTRY_REGION = np.array([0, 5, 2, 4, 2, 3, 3, 5], dtype=np.int8)

SKILLS = ["delivery", "cleaning", "handyman", "moving", "tutoring", "design"]
SKILL_P = [0.30, 0.20, 0.15, 0.12, 0.13, 0.10]
SKILL_BUDGET = np.array([25.0, 70.0, 110.0, 180.0, 45.0, 250.0])  # median task budget
SKILL_HOURS = np.array([1.0, 3.0, 2.5, 4.0, 1.5, 6.0])  # median hours worked

LEVELS = ["junior", "mid", "senior"]
TIERS = ["bronze", "silver", "gold"]

# The first three are canonical; the rest are case variants so lower(platform) matters.
PLATFORMS = ["iOS", "Android", "web", "ios", "android", "Web", "IOS"]
PLATFORM_P = [0.42, 0.40, 0.18]

EVENT_TYPES = [
    "visit",
    "signup",
    "profile_completed",
    "application",
    "task_accepted",
    "task_completed",
    "session",
]
EV = {name: code for code, name in enumerate(EVENT_TYPES)}

# Weekly seasonality, Monday first: busy Fridays and Saturdays, quiet Sundays.
WEEKDAY_W = np.array([1.00, 1.02, 1.04, 1.03, 1.12, 1.30, 0.80])
# Hour-of-day profile (UTC): quiet nights, busy afternoons and evenings.
HOUR_W = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 8, 9, 9, 9, 9, 9, 10, 11, 11, 10, 8, 5, 3],
    dtype=float,
)
_HOUR_CDF = np.cumsum(HOUR_W) / HOUR_W.sum()

FIRST_NAMES = [
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Femi",
    "Gus",
    "Hana",
    "Ivan",
    "Jia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Bea",
    "Chen",
    "Dara",
    "Emil",
    "Fatima",
    "Georg",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Luis",
    "Maya",
    "Noah",
]
LAST_INITIALS = list("ABCDEFGHIJKLMNOPRSTVWZ")


def rng_for(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per stage, so changing one stage never shifts another."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def weekday(ts: np.ndarray) -> np.ndarray:
    """Monday=0 weekday of epoch seconds (1970-01-01 was a Thursday)."""
    return (ts // DAY + 3) % 7


def day_probabilities(growth: float) -> np.ndarray:
    """Per-day probabilities with linear growth (1 -> 1+growth) and weekly seasonality."""
    d = np.arange(N_DAYS)
    w = (1.0 + growth * d / max(N_DAYS - 1, 1)) * WEEKDAY_W[weekday(START + d * DAY)]
    out: np.ndarray = w / w.sum()
    return out


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the day drawn from the hour-of-day profile."""
    hours = np.searchsorted(_HOUR_CDF, rng.random(n), side="right")
    return np.minimum(hours, 23).astype(np.int64) * HOUR + rng.integers(0, HOUR, n)


def sample_times(rng: np.random.Generator, n: int, growth: float = 2.0) -> np.ndarray:
    """Timestamps in [START, END) following growth, weekly and daily seasonality."""
    cdf = np.cumsum(day_probabilities(growth))
    days = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), N_DAYS - 1)
    out: np.ndarray = START + days.astype(np.int64) * DAY + time_of_day(rng, n)
    return out


def weekday_keep(rng: np.random.Generator, ts: np.ndarray) -> np.ndarray:
    """Thinning mask that imprints weekly seasonality on otherwise flat timestamps."""
    keep: np.ndarray = rng.random(len(ts)) < WEEKDAY_W[weekday(ts)] / WEEKDAY_W.max()
    return keep


KEEP_RATE = float(WEEKDAY_W.mean() / WEEKDAY_W.max())  # expected share kept by weekday_keep


def lognormal_s(rng: np.random.Generator, median_s: float, sigma: float, n: int) -> np.ndarray:
    """Positive skewed durations in whole seconds around a median."""
    return (median_s * np.exp(sigma * rng.standard_normal(n))).astype(np.int64)


def with_case_variants(rng: np.random.Generator, platform: np.ndarray) -> np.ndarray:
    """Rewrite ~5% of canonical platform codes into lower/upper-case variants."""
    out = platform.astype(np.int8)
    u = rng.random(len(out))
    variant = u < 0.05
    out[variant] = out[variant] + 3  # iOS->ios, Android->android, web->Web
    shout = (u < 0.01) & (platform == 0)
    out[shout] = 6  # IOS
    return out
