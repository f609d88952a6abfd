"""Demo gig-marketplace data (workers, tasks, assignments, payments, app events) for examples and benchmarks."""

from .generate import generate, table_names

__all__ = ["generate", "table_names"]
