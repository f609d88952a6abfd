"""Exposure tables of the demo's A/B tests, with planted effects whose sizes are known.

- ``onboarding_exposures``: workers who signed up in 2025 Q1 see the old onboarding
  (``control``) or a checklist (``checklist``), 50/50, at signup. The checklist asks them to
  invite friends, so ``referrals`` sent in their first 28 days rise by 30% (Poisson rates
  0.40 vs 0.52 per worker); revenue, hours and completion are generated before and apart from
  the assignment, so they have no effect at all. About 0.4% of workers are logged in both
  arms (a second exposure after a re-install), which the readout drops and counts.
- ``banner_exposures``: workers who signed up before 2025-03 are shown a pricing banner in
  April 2025, assigned 50/50, but about 10% of ``banner`` exposures are never logged (a
  client-side logging bug): a sample ratio mismatch that the SRM check flags.
- ``referrals``: invitations sent; besides the onboarding effect, every worker sends some at
  a low background rate over the whole period (also before exposure, for CUPED).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa

from ._common import DAY, END, START, _epoch, rng_for

ONBOARDING = (_epoch("2025-01-01T00:00:00"), _epoch("2025-04-01T00:00:00"))
BANNER = (_epoch("2025-04-01T00:00:00"), _epoch("2025-05-01T00:00:00"))
REFERRAL_RATE = {"control": 0.40, "checklist": 0.52}  # per worker in the first 28 days
BACKGROUND_PER_DAY = 0.002  # referrals per worker per day, everyone, all the time
BANNER_LOSS = 0.10  # share of banner exposures never logged
TABLES = ("onboarding_exposures", "banner_exposures", "referrals")


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=pa.timestamp("us"))


def experiment_tables(signup: np.ndarray, seed: int) -> dict[str, pa.Table]:
    """The three tables for workers with these signup times (epoch seconds; id = index + 1)."""
    rng = rng_for(seed, 200)
    ids = np.arange(1, len(signup) + 1, dtype=np.int64)

    # onboarding: exposed at signup (plus a few seconds), 50/50
    cohort = (signup >= ONBOARDING[0]) & (signup < ONBOARDING[1])
    o_ids, o_time = ids[cohort], signup[cohort] + rng.integers(0, 120, cohort.sum())
    o_arm = np.where(rng.random(len(o_ids)) < 0.5, "control", "checklist")
    twice = rng.random(len(o_ids)) < 0.004
    other = np.where(o_arm[twice] == "control", "checklist", "control")
    onboarding = pa.table(
        {
            "worker_id": np.concatenate([o_ids, o_ids[twice]]),
            "variant": pa.array(np.concatenate([o_arm, other]).tolist(), type=pa.string()),
            "exposed_at": _ts(np.concatenate([o_time, o_time[twice] + 3 * DAY])),
        }
    )

    # banner: existing workers, April 2025, 50/50 assigned but 6% of banner rows lost
    old = signup < _epoch("2025-03-01T00:00:00")
    b_ids = ids[old]
    b_time = rng.integers(BANNER[0], BANNER[1], len(b_ids))
    b_arm = np.where(rng.random(len(b_ids)) < 0.5, "control", "banner")
    logged = (b_arm == "control") | (rng.random(len(b_ids)) >= BANNER_LOSS)
    banner = pa.table(
        {
            "worker_id": b_ids[logged],
            "variant": pa.array(b_arm[logged].tolist(), type=pa.string()),
            "exposed_at": _ts(b_time[logged]),
        }
    )

    # referrals: the onboarding effect in the first 28 days, plus background everywhere
    rates = np.array([REFERRAL_RATE[a] for a in o_arm])
    k = rng.poisson(rates)
    who = np.repeat(o_ids, k)
    when = np.repeat(o_time, k) + rng.integers(0, 28 * DAY, k.sum())
    life = np.maximum(END - signup, 0)
    k_bg = rng.poisson(BACKGROUND_PER_DAY * life / DAY)
    who_bg = np.repeat(ids, k_bg)
    when_bg = np.repeat(np.maximum(signup, START), k_bg) + (
        rng.random(k_bg.sum()) * np.repeat(life, k_bg)
    ).astype(np.int64)
    worker = np.concatenate([who, who_bg])
    sent = np.concatenate([when, when_bg])
    keep = sent < END
    order = np.argsort(sent[keep], kind="stable")
    referrals = pa.table(
        {
            "referral_id": np.arange(1, keep.sum() + 1, dtype=np.int64),
            "worker_id": worker[keep][order],
            "sent_at": _ts(sent[keep][order]),
        }
    )
    return {"onboarding_exposures": onboarding, "banner_exposures": banner, "referrals": referrals}


EXPERIMENT_TABLES = ("onboarding_exposures", "banner_exposures", "referrals")


def write_experiment_tables(con: duckdb.DuckDBPyConnection, signup: np.ndarray, seed: int) -> None:
    """Create (or replace) the experiment tables in an open DuckDB connection."""
    for name, table in experiment_tables(signup, seed).items():
        con.register("_demo_experiment", table)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _demo_experiment")
        con.unregister("_demo_experiment")
