"""Materialized metrics (CONTRACT.md §8): what a materialization stores (shape), how a run
replaces its periods (run, store, runlog), and when a query may be answered from it (serve)."""

from metrics_layer.materialize.shape import Shape, check_all_materializations, shape_of

__all__ = ["Shape", "check_all_materializations", "shape_of"]
