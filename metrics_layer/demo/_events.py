"""App events derived from the marketplace arrays, so funnels reconcile with the facts.

Every assignment yields exactly one task_accepted event and every completed assignment one
task_completed event (same worker, task and time), which makes event counts checkable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import (
    DAY,
    END,
    EV,
    HOUR,
    KEEP_RATE,
    PLATFORM_P,
    SPIKE_DAY,
    START,
    lognormal_s,
    sample_times,
    time_of_day,
    weekday_keep,
    with_case_variants,
)
from ._marketplace import Work, Workers


@dataclass
class Events:
    """Event columns sorted by time; worker and task use -1 for NULL."""

    worker: np.ndarray
    etype: np.ndarray
    ts: np.ndarray
    platform: np.ndarray
    task: np.ndarray


class _Parts:
    """Accumulates event batches before one final sort."""

    def __init__(self) -> None:
        self.cols: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        self,
        worker: np.ndarray,
        etype: int,
        ts: np.ndarray,
        task: np.ndarray | None = None,
        platform: np.ndarray | None = None,
    ) -> None:
        n = len(ts)
        self.cols.append(
            (
                worker.astype(np.int64),
                np.full(n, etype, dtype=np.int8),
                ts.astype(np.int64),
                np.full(n, -1, dtype=np.int8) if platform is None else platform.astype(np.int8),
                np.full(n, -1, dtype=np.int64) if task is None else task.astype(np.int64),
            )
        )

    def count(self) -> int:
        return sum(len(c[2]) for c in self.cols)

    def merged(self) -> list[np.ndarray]:
        return [np.concatenate([c[i] for c in self.cols]) for i in range(5)]


def _task_before(rng: np.random.Generator, posted: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Index of a task posted shortly before each time (-1 when none was posted yet)."""
    idx = np.searchsorted(posted, ts, side="right") - rng.geometric(0.05, len(ts))
    return np.where(idx >= 0, idx, -1)


def _engagement(rng: np.random.Generator, w: Workers, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n (worker, ts) pairs after signup, heavier and longer-lived for working workers."""
    nw = len(w.signup)
    if n <= 0 or nw == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    stage = w.stage.astype(np.int64)
    scale = np.where(
        stage == 3, (w.active_end - w.signup) + 30 * DAY, (20.0 * DAY) * (1 + stage)
    ).astype(float)
    horizon = (END - w.signup).astype(float)
    # Expected activity is what falls before END of an untruncated lifetime, so recent
    # signups get fewer events rather than a pile-up at the end of the data.
    weight = np.array([0.3, 1.0, 2.0, 6.0])[stage] * rng.gamma(1.5, 1 / 1.5, nw)
    share = weight * -np.expm1(-horizon / scale)
    # Per-worker counts from one multinomial (O(workers)), then weekday thinning: about n.
    counts = rng.multinomial(int(round(n / KEEP_RATE)), share / share.sum())
    wid = np.repeat(np.arange(nw), counts)
    s, h = scale[wid], horizon[wid]
    off = -s * np.log1p(-rng.random(len(wid)) * -np.expm1(-h / s))  # truncated exponential
    ts = w.signup[wid] + np.minimum(off, h - 1).astype(np.int64)
    keep = weekday_keep(rng, ts)
    wid, ts = wid[keep], ts[keep]
    redrawn = ts // DAY * DAY + time_of_day(rng, len(ts))  # daily rhythm, never before signup
    return wid, np.where(redrawn >= w.signup[wid], redrawn, ts)


def make_events(
    rng: np.random.Generator,
    w: Workers,
    work: Work,
    worker_ids: np.ndarray,
    target: int,
    spike_rng: np.random.Generator | None,
) -> Events:
    """All app events; worker_ids are the assignments' final ids (planted orphans included)."""
    nw = len(w.signup)
    ids = np.arange(1, nw + 1, dtype=np.int64)
    parts = _Parts()

    # Acquisition visits minutes before signup, then signups (a few double-submitted).
    pre = rng.random(nw) < 0.8
    vts = w.signup[pre] - np.maximum(lognormal_s(rng, 600, 1.0, int(pre.sum())), 1)
    ok = vts >= START
    parts.add(ids[pre][ok], EV["visit"], vts[ok])
    parts.add(ids, EV["signup"], w.signup)
    dup = rng.random(nw) < 0.01
    parts.add(
        ids[dup],
        EV["signup"],
        np.minimum(w.signup[dup] + rng.integers(0, 5, int(dup.sum())), END - 1),
    )

    # Profile completion: a few logged before signup (clock skew), some twice.
    prof = np.flatnonzero(w.stage >= 1)
    pts = w.profile_at[prof].copy()
    skew = rng.random(len(prof)) < 0.005
    pts[skew] = np.maximum(w.signup[prof][skew] - rng.integers(1, 120, int(skew.sum())), START)
    parts.add(ids[prof], EV["profile_completed"], pts)
    dup = rng.random(len(prof)) < 0.02
    parts.add(
        ids[prof][dup], EV["profile_completed"], pts[dup] + rng.integers(1, HOUR, int(dup.sum()))
    )

    # Applications: one per assignment plus applications that went nowhere.
    task_ids = work.a_task + 1  # task_id = task index + 1
    parts.add(worker_ids, EV["application"], work.a_applied, task_ids)
    applicants = np.flatnonzero(w.stage == 2)
    k = 1 + rng.poisson(1.2, len(applicants))
    aw = np.repeat(applicants, k)
    ats = w.profile_at[aw] + np.maximum(lognormal_s(rng, 2 * DAY, 1.2, len(aw)), 60)
    per_worker = np.bincount(work.a_worker, minlength=nw)
    workers3 = np.flatnonzero(w.stage == 3)
    k3 = rng.poisson(1.5 * per_worker[workers3])
    bw = np.repeat(workers3, k3)
    bts = w.profile_at[bw] + (rng.random(len(bw)) * (w.active_end[bw] - w.profile_at[bw])).astype(
        np.int64
    )
    xw = np.concatenate([aw, bw])
    xts = np.concatenate([ats, bts])
    xtask = _task_before(rng, work.task_posted, xts)
    ok = (xts < END) & (xtask >= 0)
    parts.add(ids[xw[ok]], EV["application"], xts[ok], xtask[ok] + 1)

    # Accepted / completed tasks mirror the assignments exactly.
    parts.add(worker_ids, EV["task_accepted"], work.a_accepted, task_ids)
    done = work.a_done
    parts.add(worker_ids[done], EV["task_completed"], work.a_completed[done], task_ids[done])

    # Anonymous visits (~3% of events), then logged-in visits and sessions fill the rest.
    n_anon = int(round(0.03 * target))
    anon_ts = sample_times(rng, n_anon, growth=2.0)
    anon_pf = rng.choice(3, n_anon, p=[0.25, 0.25, 0.5])
    parts.add(np.full(n_anon, -1), EV["visit"], anon_ts, platform=anon_pf)
    n_eng = max(target - parts.count(), 0)
    ew, ets = _engagement(rng, w, n_eng)
    is_visit = rng.random(len(ew)) < 0.06
    parts.add(ids[ew[is_visit]], EV["visit"], ets[is_visit])
    parts.add(ids[ew[~is_visit]], EV["session"], ets[~is_visit])

    if spike_rng is not None:  # planted anomaly: ~5x visits on SPIKE_DAY (bot traffic)
        worker, etype, ts, _, _ = parts.merged()
        on_day = (etype == EV["visit"]) & (ts >= SPIKE_DAY) & (ts < SPIKE_DAY + DAY)
        n_sp = 4 * int(on_day.sum())
        sts = SPIKE_DAY + spike_rng.integers(0, DAY, n_sp)
        known = np.searchsorted(w.signup, sts, side="right")  # workers signed up by then
        pick = (spike_rng.random(n_sp) * known).astype(np.int64) + 1
        anon = (spike_rng.random(n_sp) < 0.6) | (known == 0)
        parts.add(np.where(anon, -1, pick), EV["visit"], sts, platform=np.full(n_sp, 2))

    worker, etype, ts, platform, task = parts.merged()
    # Logged-in events use the worker's preferred platform 85% of the time.
    fill = platform < 0
    wi = np.clip(worker[fill] - 1, 0, max(nw - 1, 0))
    pref = w.platform[wi] if nw else np.zeros(int(fill.sum()), np.int8)
    platform[fill] = np.where(
        rng.random(len(wi)) < 0.85, pref, rng.choice(3, len(wi), p=PLATFORM_P)
    )
    platform = with_case_variants(rng, platform)
    # Unique sort keys (time, type, position) make the default fast sort deterministic.
    key = ((ts - START) * 8 + etype) * max(len(ts), 1) + np.arange(len(ts))
    order = np.argsort(key)
    return Events(worker[order], etype[order], ts[order], platform[order], task[order])
