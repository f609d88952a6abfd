"""Interchange: definitions to and from other formats (JSON Schema, plain data, MetricFlow),
and how definitions evolve (aliases, deprecation, diff)."""
