"""A small two-tenant marketplace for access tests, and its copy restricted by hand.

`tenant_db(path, country)` writes the same tables holding only what the `own_country` policy
grants that country, with plain SQL written independently of the access code: the oracle
every restricted answer is compared with.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb

DEFS = """
version: 1
sources:
  workers:
    table: workers
    primary_key: worker_id
    time: signup_at
    dimensions:
      country: {}
      name: {}
      email: {pii: true}
      email_domain: {expr: "lower(email)", pii: true}
    measures:
      workers: {agg: count}
    checks:
      - not_null: [worker_id]
      - unique: [worker_id]
  tasks:
    table: tasks
    primary_key: task_id
    time: posted_at
    dimensions: {region: {}}
    measures:
      tasks_posted: {agg: count}
  assignments:
    table: assignments
    primary_key: assignment_id
    time: accepted_at
    dimensions: {status: {}}
    measures:
      accepted: {agg: count}
      revenue: {agg: sum, expr: revenue}
      named_revenue: {agg: sum, expr: revenue, filter: "workers.name <> 'x'"}
    joins:
      workers: {keys: worker_id}
      tasks: {keys: task_id}
    checks:
      - not_null: [worker_id]
      - relationships: [workers]
  events:
    table: events
    primary_key: event_id
    time: ts
    dimensions: {event_type: {}}
    measures:
      events: {agg: count}
      active_workers: {agg: count_distinct, expr: worker_id}
    joins:
      workers: {keys: worker_id}
  exposures:
    table: exposures
    primary_key: exposure_id
    time: exposed_at
    dimensions: {variant: {}}
    measures:
      exposed: {agg: count}
    joins:
      workers: {keys: worker_id}
metrics:
  total_revenue: {measure: assignments.revenue}
  revenue_per_assignment: {type: ratio, numerator: assignments.revenue, denominator: assignments.accepted}
  active: {measure: events.active_workers}
  by_name: {measure: assignments.named_revenue}
retention:
  engagement:
    source: events
    entity: worker_id
    cohort: "event_type = 'signup'"
    activity: "event_type = 'session'"
    period: week
funnels:
  onboarding:
    source: events
    entity: worker_id
    window: 14 days
    steps:
      - {name: signup, filter: "event_type = 'signup'"}
      - {name: session, filter: "event_type = 'session'"}
      - {name: completed, filter: "event_type = 'task_completed'"}
experiments:
  trial:
    source: exposures
    entity: worker_id
    variant: variant
    time: exposed_at
    control: control
    metrics: [total_revenue, active]
access:
  policies:
    own_country:
      sources: [assignments, events, workers, tasks, exposures]
      row_filters:
        exposures: "workers.country = :country"
        workers: "country = :country"
        assignments: "workers.country = :country"
        events: "workers.country = :country"
      hidden: [workers.name]
    see_email:
      sources: [workers]
      row_filters: {workers: "country = :country"}
      unmask: [workers.email]
    by_region:
      sources: [tasks]
      row_filters: {tasks: "region = :region"}
    tasks_all:
      sources: [tasks]
"""

COUNTRIES = ["DE", "FR", "US"]
START = dt.datetime(2024, 1, 1)


def make_db(path: Path, seed: int = 7, workers: int = 30) -> Path:
    """Random but reproducible rows; some workers have no country, some rows no worker."""
    rnd = random.Random(seed)
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE workers (worker_id BIGINT, country VARCHAR, name VARCHAR, "
        "email VARCHAR, signup_at TIMESTAMP)"
    )
    con.execute("CREATE TABLE tasks (task_id BIGINT, region VARCHAR, posted_at TIMESTAMP)")
    con.execute(
        "CREATE TABLE assignments (assignment_id BIGINT, task_id BIGINT, worker_id BIGINT, "
        "status VARCHAR, revenue DOUBLE, accepted_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE events (event_id BIGINT, worker_id BIGINT, event_type VARCHAR, ts TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE exposures (exposure_id BIGINT, worker_id BIGINT, variant VARCHAR, "
        "exposed_at TIMESTAMP)"
    )
    rows: dict[str, list[list]] = {
        "workers": [],
        "tasks": [],
        "assignments": [],
        "events": [],
        "exposures": [],
    }
    for w in range(1, workers + 1):
        country = rnd.choice([*COUNTRIES, None]) if w > 3 else COUNTRIES[w - 1]
        when = START + dt.timedelta(hours=rnd.randrange(24 * 60))
        rows["workers"].append([w, country, f"name{w}", f"Worker{w}@Mail{w % 4}.example", when])
    for t in range(1, 21):
        when = START + dt.timedelta(hours=rnd.randrange(24 * 60))
        rows["tasks"].append([t, rnd.choice(["n", "s"]), when])
    for a in range(1, 121):
        worker = rnd.choice([*range(1, workers + 3), None])  # ids past the last: no such worker
        when = START + dt.timedelta(hours=rnd.randrange(24 * 70))
        status = rnd.choice(["open", "done"])
        revenue = round(rnd.uniform(0, 100), 2)
        rows["assignments"].append([a, rnd.randrange(1, 21), worker, status, revenue, when])
    e = 0
    for w in range(1, workers + 1):
        t = START + dt.timedelta(hours=rnd.randrange(24 * 50))
        for kind in ["signup", "session", "session", "task_completed"]:
            if rnd.random() < 0.8:
                e += 1
                rows["events"].append([e, w, kind, t])
                t += dt.timedelta(hours=rnd.randrange(1, 24 * 12))
    for w in range(1, workers + 1):
        when = START + dt.timedelta(hours=rnd.randrange(24 * 20))
        rows["exposures"].append([w, w, rnd.choice(["control", "treatment"]), when])
    for table, values in rows.items():
        marks = ", ".join("?" * len(values[0]))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    con.close()
    return path


def tenant_db(full: Path, path: Path, country: str) -> Path:
    """The tables as the `own_country` policy should show them to `country`, by hand."""
    con = duckdb.connect(str(path))
    con.execute(f"ATTACH '{full}' AS src (READ_ONLY)")
    con.execute("CREATE TABLE workers AS SELECT * FROM src.workers WHERE country = ?", [country])
    con.execute("CREATE TABLE tasks AS SELECT * FROM src.tasks")
    for table in ("assignments", "events", "exposures"):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM src.{table} WHERE worker_id IN "
            "(SELECT worker_id FROM src.workers WHERE country = ?)",
            [country],
        )
    con.execute("DETACH src")
    con.close()
    return path


def write_defs(folder: Path, text: str = DEFS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "defs.yml").write_text(text)
    return folder
