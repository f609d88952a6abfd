"""The data dictionary's entry for each materialization: what it stores, where, and its last
run as the run log `metrics_layer_runs` in the connection records it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from metrics_layer.materialize import runlog

if TYPE_CHECKING:
    from metrics_layer.layer import Layer


def materialization_entries(layer: Layer) -> list[dict[str, Any]]:
    """One entry per materialization, in definition order."""
    out = []
    for name, m in layer.registry.project.materializations.items():
        table = ".".join(p for p in (m.database, m.db_schema, m.table) if p)
        out.append(
            {
                "name": name,
                "description": m.description or "",
                "owner": m.owner or "",
                "metrics": ", ".join(m.metrics),
                "by": ", ".join(m.by),
                "grain": m.grain,
                "table": table,
                "lookback": m.lookback,
                "max_lag": m.max_lag or "",
                "last_run": last_run_text(layer.con, name),
            }
        )
    return out


def last_run_text(con: Any, name: str) -> str:
    """'never run', or the latest run: kind, status, when it finished and its watermark."""
    try:
        rows = runlog.rows(con, name) if con is not None else []
    except Exception as exc:  # noqa: BLE001 - the dictionary is still written without it
        lines = str(exc).strip().splitlines()
        return f"run log unreadable ({type(exc).__name__}: {lines[0] if lines else ''})"[:200]
    if not rows:
        return "never run"
    r = rows[-1]
    when = r["finished"] or r["started"]
    text = f"{r['kind']} run, {r['status']}, {when:%Y-%m-%d %H:%M} UTC"
    if r["status"] == "success":
        text += f", {r['periods']} periods, {r['rows']} rows"
    last = runlog.last_watermark(con, name)
    mark = "none" if last is None else f"{last:%Y-%m-%d %H:%M:%S}"
    return f"{text}; watermark {mark}"
