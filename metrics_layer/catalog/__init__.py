"""The data dictionary: a static HTML and Markdown catalog of the definitions (docs/lineage.md)."""

from metrics_layer.catalog.build import build_catalog

__all__ = ["build_catalog"]
