"""Request bodies of the service: the Python keyword names of each Layer method, strictly typed.

The same models describe the HTTP bodies (and so the OpenAPI document) and the MCP tools'
arguments. Unknown keys are refused (`extra="forbid"`), so a misspelt option is an error
rather than silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Names = str | list[str]
Moment = str | None  # ISO date or timestamp text


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the Layer call (unset options keep the Layer's defaults)."""
        return self.model_dump(exclude_unset=True)


class QueryBody(Body):
    metrics: Names = Field(description="Metric names (or source.measure)")
    by: Names | None = Field(None, description="Dimensions to group by")
    grain: str | None = Field(None, description="hour, day, week, month, quarter, year, ...")
    where: str | None = Field(None, description="SQL condition over dimension names")
    start: Moment = Field(None, description="Inclusive start of the metric's time")
    end: Moment = Field(None, description="Exclusive end of the metric's time")
    order_by: Names | None = None
    limit: int | None = Field(None, ge=0)
    fill: Literal["zero", "null"] | None = None
    as_of: Moment = None


class SqlBody(QueryBody):
    dialect: str | None = Field(None, description="sqlglot dialect (default: the connection's)")


class RetentionBody(Body):
    periods: int | None = Field(12, ge=1)
    by: Names | None = None
    mode: Literal["exact", "rolling"] = "exact"
    cohort_type: Literal["first_time", "recurring"] | None = None
    start: Moment = None
    end: Moment = None
    as_of: Moment = None


class FunnelBody(Body):
    by: Names | None = None
    start: Moment = None
    end: Moment = None
    order: Literal["sequential", "strict", "any"] | None = None
    window: str | None = Field(None, description="e.g. '7 days'")
    grain: str | None = None


class ExperimentBody(Body):
    start: Moment = None
    end: Moment = None
    metrics: Names | None = None
    alpha: float = Field(0.05, gt=0, lt=1)
    relative: bool = True
    cuped: bool | dict[str, str] | None = None


class ValuesBody(Body):
    search: str | None = None
    limit: int = Field(100, ge=1, le=100_000)
