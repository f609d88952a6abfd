"""Workers, tasks, assignments, payments and worker history as numpy arrays.

Work is generated worker-first: each worker who gets work has an activity window (a short
one for one-and-done workers, a long one for regulars) and Poisson many assignments in it.
That gives a realistic decaying retention curve, and guarantees signup < accepted_at.
Filled tasks are then posted shortly before their first assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._common import (
    COUNTRY_P,
    COUNTRY_REGION,
    DAY,
    END,
    FIRST_NAMES,
    HOUR,
    KEEP_RATE,
    LAST_INITIALS,
    PLATFORM_P,
    REGION_P,
    SKILL_BUDGET,
    SKILL_HOURS,
    SKILL_P,
    START,
    lognormal_s,
    sample_times,
    weekday_keep,
)


@dataclass
class Workers:
    """Per-worker arrays; worker_id = index + 1 (ids follow signup order)."""

    signup: np.ndarray
    name: np.ndarray
    country: np.ndarray
    skill: np.ndarray
    stage: np.ndarray  # 0 signed up, 1 profile completed, 2 applied, 3 got work
    profile_at: np.ndarray
    active_start: np.ndarray
    active_end: np.ndarray
    platform: np.ndarray  # preferred canonical platform code


@dataclass
class Work:
    """Tasks (sorted by posted_at), assignments (by accepted_at) and their payments."""

    task_posted: np.ndarray
    task_client: np.ndarray
    task_category: np.ndarray
    task_region: np.ndarray
    task_budget: np.ndarray
    a_task: np.ndarray  # task index
    a_worker: np.ndarray  # worker index (orphans are planted later, on the ids)
    a_accepted: np.ndarray
    a_applied: np.ndarray  # the worker's application to the task
    a_done: np.ndarray
    a_completed: np.ndarray
    a_hours: np.ndarray
    a_revenue: np.ndarray
    p_assignment: np.ndarray  # assignment index of each payment, sorted by paid_at
    p_paid: np.ndarray


@dataclass
class History:
    """SCD2 versions per worker, in worker then time order; valid_to -1 means current."""

    worker: np.ndarray
    level: np.ndarray
    rating: np.ndarray  # NaN = no rating yet
    tier: np.ndarray
    valid_from: np.ndarray
    valid_to: np.ndarray


def make_workers(rng: np.random.Generator, n: int) -> Workers:
    """Workers with a funnel stage (~70/50/35% reach profile/application/work)."""
    signup = np.sort(sample_times(rng, n, growth=2.0))
    names = np.array([f"{f} {i}." for f in FIRST_NAMES for i in LAST_INITIALS], dtype=object)
    u = rng.random(n)
    stage = np.select([u < 0.35, u < 0.50, u < 0.70], [3, 2, 1], 0).astype(np.int8)
    gap = np.maximum(lognormal_s(rng, 3 * HOUR, 1.2, n), 60)
    gap[rng.random(n) < 0.03] = 0  # profile completed in the same instant as signup
    profile_at = signup + gap
    stage[profile_at >= END - HOUR] = 0
    active_start = profile_at + np.maximum(lognormal_s(rng, 1.5 * DAY, 1.0, n), 600)
    stage[(stage == 3) & (active_start >= END - DAY)] = 2
    short = rng.random(n) < 0.35
    life = np.where(short, rng.exponential(10 * DAY, n), rng.exponential(200 * DAY, n))
    active_end = np.maximum(
        np.minimum(active_start + life.astype(np.int64), END - DAY), active_start
    )
    return Workers(
        signup=signup,
        name=names[rng.integers(0, len(names), n)],
        country=rng.choice(len(COUNTRY_P), n, p=COUNTRY_P).astype(np.int8),
        skill=rng.choice(len(SKILL_P), n, p=SKILL_P).astype(np.int8),
        stage=stage,
        profile_at=profile_at,
        active_start=active_start,
        active_end=active_end,
        platform=rng.choice(3, n, p=PLATFORM_P).astype(np.int8),
    )


def _outcomes(
    rng: np.random.Generator, accepted: np.ndarray, category: np.ndarray, p_done: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whether each assignment completes (and is paid before END), its hours and times."""
    n = len(accepted)
    hours = np.maximum(
        np.round(SKILL_HOURS[category] * np.exp(0.5 * rng.standard_normal(n)), 2), 0.25
    )
    completed = accepted + (hours * HOUR).astype(np.int64) + lognormal_s(rng, 12 * HOUR, 1.0, n)
    paid = completed + DAY + rng.integers(0, 4 * DAY, n)
    done = (rng.random(n) < p_done) & (paid < END)
    return done, hours, completed, paid


def _pick_replacements(
    rng: np.random.Generator, w: Workers, first_worker: np.ndarray, t2: np.ndarray
) -> np.ndarray:
    """A different worker, preferably still active, who started working before t2 (-1: none)."""
    acc = np.flatnonzero(w.stage == 3)
    acc = acc[np.argsort(w.active_start[acc], kind="stable")]
    cnt = np.searchsorted(w.active_start[acc], t2, side="right")
    out = np.full(len(t2), -1, dtype=np.int64)
    for attempt in range(5):
        todo = np.flatnonzero((out < 0) & (cnt > 0))
        if not len(todo):
            break
        cand = acc[np.minimum((rng.random(len(todo)) * cnt[todo]).astype(np.int64), len(acc) - 1)]
        ok = cand != first_worker[todo]
        if attempt < 4:
            ok &= w.active_end[cand] >= t2[todo]
        out[todo[ok]] = cand[ok]
    return out


def make_work(rng: np.random.Generator, w: Workers, n_first: int, n_clients: int) -> Work:
    """Assignments of working workers, the tasks they fill, re-assignments and payments."""
    acc = np.flatnonzero(w.stage == 3)
    span = (w.active_end[acc] - w.active_start[acc]) / DAY
    lam = span * rng.gamma(2.0, 0.5, len(acc))
    extra = max(n_first - len(acc), 0)
    lam *= extra / max(lam.sum(), 1e-9) / KEEP_RATE
    k = rng.poisson(lam)
    ew = np.repeat(acc, k)
    et = w.active_start[ew] + (
        rng.random(len(ew)) * (w.active_end[ew] - w.active_start[ew])
    ).astype(np.int64)
    keep = weekday_keep(rng, et)
    worker1 = np.concatenate([acc, ew[keep]])
    accepted1 = np.concatenate([w.active_start[acc], et[keep]])
    n1 = len(worker1)
    n_skill = len(SKILL_P)
    category1 = np.where(
        rng.random(n1) < 0.85, w.skill[worker1], rng.choice(n_skill, n1, p=SKILL_P)
    )
    posted1 = np.maximum(accepted1 - np.maximum(lognormal_s(rng, 8 * HOUR, 1.0, n1), 600), START)
    done1, hours1, completed1, paid1 = _outcomes(rng, accepted1, category1, 0.88)

    # Cancelled assignments are often re-assigned to another worker: task fan-out.
    cand = np.flatnonzero(~done1 & (accepted1 < END - 3 * DAY))
    re = cand[rng.random(len(cand)) < 0.65]
    t2 = accepted1[re] + np.maximum(lognormal_s(rng, 20 * HOUR, 0.8, len(re)), 900)
    ok = t2 < END - DAY
    re, t2 = re[ok], t2[ok]
    worker2 = _pick_replacements(rng, w, worker1[re], t2)
    ok = worker2 >= 0
    re, t2, worker2 = re[ok], t2[ok], worker2[ok]
    done2, hours2, completed2, paid2 = _outcomes(rng, t2, category1[re], 0.90)

    # Unfilled tasks (~20%), then order tasks by posting time.
    n_unf = int(round(n1 * 0.25))
    posted = np.concatenate([posted1, sample_times(rng, n_unf, growth=2.0)])
    region1 = COUNTRY_REGION[w.country[worker1]].astype(np.int8)
    region1[(region1 == 0) & (rng.random(n1) < 0.45)] = 1
    stray = rng.random(n1) < 0.10
    region1[stray] = rng.choice(len(REGION_P), int(stray.sum()), p=REGION_P)
    category = np.concatenate([category1, rng.choice(n_skill, n_unf, p=SKILL_P)]).astype(np.int8)
    region = np.concatenate([region1, rng.choice(len(REGION_P), n_unf, p=REGION_P)]).astype(np.int8)
    nt = len(posted)
    budget = np.maximum(SKILL_BUDGET[category] * np.exp(0.5 * rng.standard_normal(nt)), 5.0)
    budget = np.where(rng.random(nt) < 0.5, np.round(budget), np.round(budget, 2))
    client = (n_clients * rng.random(nt) ** 2).astype(np.int64) + 1  # skewed: big clients
    t_order = np.argsort(posted, kind="stable")
    t_rank = np.empty(nt, dtype=np.int64)
    t_rank[t_order] = np.arange(nt)

    a_task_raw = np.concatenate([np.arange(n1), re])
    a_worker = np.concatenate([worker1, worker2])
    a_accepted = np.concatenate([accepted1, t2])
    a_done = np.concatenate([done1, done2])
    a_hours = np.concatenate([hours1, hours2])
    a_completed = np.concatenate([completed1, completed2])
    a_paid = np.concatenate([paid1, paid2])
    na = len(a_worker)
    a_budget = budget[a_task_raw]
    tweak = np.round(a_budget * rng.uniform(0.8, 1.3, na), 2)
    a_revenue = np.where(a_done, np.where(rng.random(na) < 0.7, a_budget, tweak), 0.0)
    a_hours = np.where(a_done, a_hours, 0.0)
    # Application between the later of posting and profile completion, and acceptance.
    lo = np.maximum(posted[a_task_raw], w.profile_at[a_worker])
    a_applied = lo + (rng.random(na) * (a_accepted - lo)).astype(np.int64)
    instant = rng.random(na) < 0.02  # instant booking: applied and accepted at once
    a_applied[instant] = a_accepted[instant]
    a_order = np.argsort(a_accepted, kind="stable")
    paid_idx = np.flatnonzero(a_done[a_order])  # positions in the sorted assignments
    p_order = paid_idx[np.argsort(a_paid[a_order][paid_idx], kind="stable")]
    return Work(
        task_posted=posted[t_order],
        task_client=client[t_order],
        task_category=category[t_order],
        task_region=region[t_order],
        task_budget=budget[t_order],
        a_task=t_rank[a_task_raw][a_order],
        a_worker=a_worker[a_order],
        a_accepted=a_accepted[a_order],
        a_applied=a_applied[a_order],
        a_done=a_done[a_order],
        a_completed=a_completed[a_order],
        a_hours=a_hours[a_order],
        a_revenue=a_revenue[a_order],
        p_assignment=p_order,
        p_paid=a_paid[a_order][p_order],
    )


def make_history(rng: np.random.Generator, w: Workers, completed_per_worker: np.ndarray) -> History:
    """1-4 contiguous versions per worker whose level and tier improve over time."""
    n = len(w.signup)
    u = rng.random(n)
    n_ver = np.where(
        w.stage == 3,
        np.searchsorted([0.15, 0.50, 0.80], u, side="right") + 1,
        np.where(w.stage >= 1, (u < 0.25) + 1, (u < 0.05) + 1),
    ).astype(np.int64)
    span = END - w.signup - 10
    cuts = np.sort(rng.random((n, 3)), axis=1)
    change = w.signup[:, None] + 1 + (cuts * span[:, None]).astype(np.int64) + np.arange(3)[None, :]
    bounds = np.concatenate([w.signup[:, None], change, np.full((n, 1), -1)], axis=1)

    level0 = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    tier0 = (rng.random(n) < 0.1).astype(np.int64)
    step_p = np.where(w.stage == 3, 0.55, 0.35)[:, None]
    d_level = rng.random((n, 4)) < step_p
    d_tier = rng.random((n, 4)) < step_p + 0.1
    d_level[:, 0] = d_tier[:, 0] = False
    level = np.minimum(level0[:, None] + np.cumsum(d_level, axis=1), 2)
    tier = np.minimum(tier0[:, None] + np.cumsum(d_tier, axis=1), 2)
    base = np.clip(rng.normal(4.4, 0.35, n), 1.0, 5.0)
    rating = np.round(np.clip(base[:, None] + rng.normal(0, 0.15, (n, 4)), 1.0, 5.0), 2)
    recency = (w.signup - w.signup.min()) / max(END - w.signup.min(), 1)
    rated = (completed_per_worker > 0) | (rng.random(n) < 0.95 - 0.5 * recency**2)
    rating[~rated, :] = np.nan
    rating[(n_ver > 1) & (rng.random(n) < 0.5), 0] = np.nan  # unrated in the first version

    col = np.arange(4)[None, :]
    valid = col < n_ver[:, None]
    is_last = col == (n_ver - 1)[:, None]
    frm = bounds[:, :4]
    to = np.where(is_last, -1, bounds[:, 1:5])
    rows = valid.ravel()
    return History(
        worker=np.repeat(np.arange(n), 4)[rows],
        level=level.ravel()[rows].astype(np.int8),
        rating=rating.ravel()[rows],
        tier=tier.ravel()[rows].astype(np.int8),
        valid_from=frm.ravel()[rows],
        valid_to=to.ravel()[rows],
    )
