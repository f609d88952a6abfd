"""A product-event data set for funnel benchmarks: deterministic by seed, built in bounded memory.

The demo marketplace events have one signup per worker and few repeats, so a funnel on them
is gentle. This data set has what makes funnels expensive in production event logs:

- **Repeated steps.** Users come back in sessions; every session starts with `view_item`
  (step 1), so one user has many attempts, and a session can repeat a step (two
  `add_to_cart` events).
- **Ties.** Times have whole-second resolution, and a share of steps happen in the same
  second as the previous step; some events are logged twice (exact duplicates).
- **Skewed users.** Sessions per user follow a Pareto law: most users have one or two, a
  few have hundreds, so a few entities own a large share of the rows.
- **NULL entities.** Anonymous events (a NULL `user_id`), of every type.
- **Noise.** `page_view`, `search` and `login` events between the steps.
- **Conversions outside the window.** Delays between steps are log-normal; some are longer
  than the 7-day funnel window.

Table `product_events(user_id BIGINT, event_type VARCHAR, ts TIMESTAMP, platform VARCHAR)`,
stored ordered by `ts` (as an event log is). Users are generated in chunks of
`CHUNK_USERS`, each from its own `numpy` generator seeded by `(seed, chunk)`, and appended
to the DuckDB file, so memory does not grow with the size; the final sort runs inside DuckDB
under a memory limit (it spills to disk when needed).

    python -m benchmarks.product_data --users 1000000        # ~11M events
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks.harness import DATA_DIR, ROOT, Say, say

STEPS = ("view_item", "add_to_cart", "checkout", "purchase")
NOISE = ("page_view", "search", "login")
PLATFORMS = ("web", "ios", "android")
CHUNK_USERS = 50_000
DEFAULT_USERS = 1_000_000
DEFAULT_SEED = 11
START = np.datetime64("2024-01-01T00:00:00", "s")
DAYS = 180
# probability of going on to step k+1 within a session, for k = 1, 2, 3
CONTINUE = (0.55, 0.6, 0.7)
TIE_SHARE = 0.08  # a next step in the same second as the previous one
REPEAT_SHARE = 0.1  # a step event repeated later in the session
DUPLICATE_SHARE = 0.01  # an event logged twice (same user, type and second)
NULL_SHARE = 0.03  # anonymous events
NOISE_PER_SESSION = 1.4
MAX_SESSIONS = 2_000
MAX_DELAY = 30 * 86400  # seconds between two steps of a session, at most

_TYPES = (*STEPS, *NOISE)


def _chunk(rng: np.random.Generator, first_user: int, n_users: int) -> pa.Table:
    """The events of users first_user .. first_user + n_users - 1 (unsorted)."""
    users = np.arange(first_user, first_user + n_users, dtype=np.int64)
    # sessions per user: 1 + Lomax(1.3), capped: heavy-tailed (skewed users)
    sessions = np.minimum(1 + np.floor(rng.pareto(1.3, n_users) * 0.8), MAX_SESSIONS)
    sessions = sessions.astype(np.int64)
    s_user = np.repeat(users, sessions)
    n_s = len(s_user)
    # a user's sessions spread over the period, starting at its first visit
    first_visit = rng.integers(0, DAYS * 86400, n_users)
    span = np.repeat(np.maximum(DAYS * 86400 - first_visit, 3600), sessions)
    s_start = np.repeat(first_visit, sessions) + (rng.random(n_s) * span).astype(np.int64)
    s_platform = rng.integers(0, len(PLATFORMS), n_s)
    # depth of each session: 1 + the steps it goes on to
    depth = np.ones(n_s, dtype=np.int64)
    alive = np.ones(n_s, dtype=bool)
    for p in CONTINUE:
        alive &= rng.random(n_s) < p
        depth += alive
    # step events: (session, step) pairs; delays after the previous step, log-normal seconds
    # (median ~40 min, a long tail beyond the 7-day window, capped at 30 days), TIE_SHARE of them 0
    sess_of = np.repeat(np.arange(n_s), depth)
    step_no = np.arange(len(sess_of)) - np.repeat(np.cumsum(depth) - depth, depth)
    delay = np.minimum(np.exp(rng.normal(7.8, 2.4, len(sess_of))), MAX_DELAY).astype(np.int64)
    delay[rng.random(len(sess_of)) < TIE_SHARE] = 0
    delay[step_no == 0] = 0
    offs = np.cumsum(delay)
    offs -= np.repeat(offs[np.cumsum(depth) - depth], depth)
    e_ts = s_start[sess_of] + offs
    e_type = step_no
    e_user = s_user[sess_of]
    e_platform = s_platform[sess_of]
    # repeated steps later in the same session
    rep = rng.random(len(e_ts)) < REPEAT_SHARE
    r_ts = e_ts[rep] + rng.integers(0, 3600, int(rep.sum()))
    # noise events in and around the sessions
    n_noise = rng.poisson(NOISE_PER_SESSION, n_s)
    noise_sess = np.repeat(np.arange(n_s), n_noise)
    z_ts = s_start[noise_sess] + rng.integers(-600, 6 * 3600, len(noise_sess))
    ts = np.concatenate([e_ts, r_ts, z_ts])
    kind = np.concatenate(
        [e_type, e_type[rep], rng.integers(len(STEPS), len(_TYPES), len(noise_sess))]
    )
    user = np.concatenate([e_user, e_user[rep], s_user[noise_sess]])
    platform = np.concatenate([e_platform, e_platform[rep], s_platform[noise_sess]])
    dup = rng.random(len(ts)) < DUPLICATE_SHARE
    ts, kind = np.concatenate([ts, ts[dup]]), np.concatenate([kind, kind[dup]])
    user, platform = np.concatenate([user, user[dup]]), np.concatenate([platform, platform[dup]])
    null = rng.random(len(ts)) < NULL_SHARE
    types = pa.DictionaryArray.from_arrays(pa.array(kind.astype(np.int32)), pa.array(_TYPES))
    plats = pa.DictionaryArray.from_arrays(pa.array(platform.astype(np.int32)), pa.array(PLATFORMS))
    return pa.table(
        {
            "user_id": pa.array(user, mask=null),
            "event_type": types.cast(pa.string()),
            "ts": pa.array(START + ts.astype("timedelta64[s]")).cast(pa.timestamp("us")),
            "platform": plats.cast(pa.string()),
        }
    )


def generate(
    path: str | Path,
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    progress: Say | None = None,
    memory_limit: str = "2GB",
) -> dict[str, int]:
    """Write `product_events` for `users` users to a new DuckDB file; returns row counts."""
    import duckdb

    tell = progress or (lambda _m: None)
    path = Path(path)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            "CREATE TABLE raw (user_id BIGINT, event_type VARCHAR, ts TIMESTAMP, platform VARCHAR)"
        )
        for c, first in enumerate(range(0, users, CHUNK_USERS)):
            rng = np.random.default_rng([seed, c])
            part = _chunk(rng, first + 1, min(CHUNK_USERS, users - first))
            con.register("part", part)
            con.execute("INSERT INTO raw SELECT * FROM part")
            con.unregister("part")
            if c % 5 == 4:
                tell(f"{first + CHUNK_USERS:,} of {users:,} users")
        con.execute(
            "CREATE TABLE product_events AS SELECT * FROM raw "
            "ORDER BY ts, user_id NULLS FIRST, event_type, platform"
        )
        con.execute("DROP TABLE raw")
        con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM product_events").fetchall()[0][0]
    finally:
        con.close()
    return {"product_events": int(rows), "users": users}


def _fingerprint() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def ensure_product_data(
    users: int = DEFAULT_USERS,
    seed: int = DEFAULT_SEED,
    directory: Path = DATA_DIR,
    progress: Say | None = say,
) -> Path:
    """Path of the product-event DuckDB file for (users, seed): generated once, then reused
    while its sidecar JSON records the same size, seed and generator source and the table
    still has the recorded number of rows."""
    from benchmarks.harness import _table_rows

    tell = progress or (lambda _m: None)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"product_{users}_s{seed}.duckdb"
    meta_path = path.with_suffix(".json")
    want: dict[str, Any] = {"users": users, "seed": seed, "fingerprint": _fingerprint()}
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in want} == want and _table_rows(
            path, "product_events"
        ) == meta.get("counts", {}).get("product_events"):
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            tell(f"reusing {shown} ({meta['counts']['product_events']:,} events)")
            return path
        tell(f"{path.name} is stale (different size, seed or generator); regenerating")
    tmp = path.with_suffix(".tmp.duckdb")
    for stale in (tmp, Path(str(tmp) + ".wal"), meta_path):
        stale.unlink(missing_ok=True)
    tell(f"generating product events for {users:,} users ...")
    start = time.perf_counter()
    counts = generate(tmp, users=users, seed=seed, progress=lambda m: tell("  wrote " + m))
    tmp.replace(path)
    meta_path.write_text(json.dumps({**want, "counts": counts}, indent=2))
    tell(
        f"generated {path.name} ({counts['product_events']:,} events) in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=DEFAULT_USERS)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = ap.parse_args()
    print(ensure_product_data(args.users, args.seed, args.data_dir))


if __name__ == "__main__":
    main()
