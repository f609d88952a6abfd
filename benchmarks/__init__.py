"""Benchmarks: the layer's compiled queries timed against hand-written SQL on the same data.

Run them with ``python -m benchmarks.run`` (see docs/benchmarks.md).
"""
