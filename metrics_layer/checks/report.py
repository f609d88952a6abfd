"""The report of a check run: one result per rule and target, readable and machine-checkable."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from metrics_layer.errors import MetricsLayerError, unknown

COLUMNS = ["kind", "target", "rule", "passed", "failures", "detail", "severity"]


class CheckError(MetricsLayerError):
    """A rule that cannot be evaluated (unknown column, query failure...): never a silent pass."""


@dataclass
class RuleResult:
    """One rule on one target (a metric or a source).

    `failures` counts failing periods or groups for metric rules and failing rows for source
    checks (columns for a `columns` check); `failing` holds those periods/groups or a sample
    of the rows.
    """

    kind: str
    target: str
    rule: str
    passed: bool
    failures: int
    detail: str
    severity: str = "error"
    failing: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def blocking(self) -> bool:
        """A failed rule of severity error (warnings are reported, not gating)."""
        return not self.passed and self.severity == "error"

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "rule": self.rule,
            "passed": self.passed,
            "failures": int(self.failures),
            "detail": self.detail,
            "severity": self.severity,
        }


class Report:
    """Results of `layer.check(...)` / `layer.check_sources(...)`."""

    def __init__(self, results: list[RuleResult], *, meta: dict[str, Any] | None = None) -> None:
        self.results = list(results)
        self.meta = meta or {}

    @property
    def ok(self) -> bool:
        """True when no rule of severity `error` failed."""
        return not any(r.blocking for r in self.results)

    def to_pandas(self) -> pd.DataFrame:
        """One row per rule and target: kind, target, rule, passed, failures, detail, severity."""
        df = pd.DataFrame([r.row() for r in self.results], columns=COLUMNS)
        return df.astype({"passed": bool, "failures": "int64"})

    def result(self, target: str, rule: str) -> RuleResult:
        """The result of one rule; `rule` may be the bare kind (`unique`) when it is unambiguous."""
        on_target = [r for r in self.results if r.target == target]
        if not on_target:
            raise CheckError(unknown("check target", target, {r.target for r in self.results}))
        exact = [r for r in on_target if r.rule == rule]
        if not exact:
            exact = [r for r in on_target if r.rule.split("(", 1)[0] == rule]
        if len(exact) == 1:
            return exact[0]
        rules = [r.rule for r in on_target]
        if not exact:
            raise CheckError(
                unknown(f"rule of {target!r}", rule, rules) + f"; rules: {', '.join(rules)}"
            )
        raise CheckError(
            f"rule {rule!r} of {target!r} is ambiguous: use one of "
            + ", ".join(r.rule for r in exact)
        )

    def failing(self, target: str, rule: str) -> pd.DataFrame:
        """The failing periods/groups (metric rules) or sample rows (source checks) of a rule."""
        return self.result(target, rule).failing.copy()

    def failing_rows(self, source: str) -> Any:
        """Every row of a source failing a row-level check, as an ibis table expression with a
        `_failed_checks` column (run it with `.execute()`, or see `quarantine=True`)."""
        rows = self.meta.get("failing_rows", {})
        if source not in rows:
            raise CheckError(unknown("source with row-level checks", source, rows))
        return rows[source]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        """One line: how many rules passed, failed and only warned."""
        n = len(self.results)
        errors = sum(r.blocking for r in self.results)
        warns = sum(not r.passed and not r.blocking for r in self.results)
        text = f"{n - errors - warns} of {n} checks passed"
        if errors:
            text += f", {errors} failed"
        if warns:
            text += f", {warns} warning{'s' if warns > 1 else ''}"
        return text + (" — OK" if self.ok else " — FAILED")

    def to_text(self, samples: int = 5) -> str:
        """A plain-text report: one line per rule, then failing samples."""
        lines = []
        width = max((len(f"{r.target}: {r.rule}") for r in self.results), default=0)
        for r in self.results:
            mark = "PASS" if r.passed else ("WARN" if r.severity == "warn" else "FAIL")
            lines.append(f"{mark}  {f'{r.target}: {r.rule}':<{width}}  {r.detail}")
        for r in self.failed:
            if r.failing.empty or samples <= 0:
                continue
            lines.append("")
            lines.append(
                f"{r.target}: {r.rule} — failing ({min(samples, len(r.failing))} of {r.failures}):"
            )
            text = r.failing.head(samples).to_string(index=False, na_rep="NULL", max_colwidth=40)
            lines.extend("  " + line for line in text.splitlines())
        lines.append("")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_dict(self, samples: int = 20) -> dict[str, Any]:
        """JSON-ready: ok, summary and every result with its failing samples."""
        out = []
        for r in self.results:
            item = r.row()
            item["failing"] = _records(r.failing.head(samples))
            out.append(item)
        return {"ok": self.ok, "summary": self.summary(), "results": out}

    def to_json(self, samples: int = 20) -> str:
        return json.dumps(self.to_dict(samples), indent=2, default=str)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Report {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<p><b>{self.summary()}</b></p>" + str(self.to_pandas().to_html(index=False))


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for rec in df.to_dict(orient="records"):
        rows.append({str(k): _plain(v) for k, v in rec.items()})
    return rows


def _plain(v: Any) -> Any:
    """JSON-safe scalar: NULLs as None, timestamps as ISO text, numpy numbers as Python ones."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, int | float | str | bool):
        return v
    return str(v)
