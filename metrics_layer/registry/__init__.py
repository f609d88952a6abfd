"""Registry: definitions with every cross-reference resolved and checked."""

from metrics_layer.registry.fields import FieldRef, JoinStep
from metrics_layer.registry.registry import MeasureRef, Registry

__all__ = ["FieldRef", "JoinStep", "MeasureRef", "Registry"]
