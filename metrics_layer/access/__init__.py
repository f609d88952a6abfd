"""Access policies: restricted layers that see only the sources, rows and dimensions they are granted.

`Layer.restrict(policies, attributes)` resolves the named policies of the `access:` block into a
`Grant` (grant.py), prunes the definitions to what the grant shows (prune.py), and returns a
`RestrictedLayer` (restricted.py) whose every table read applies the row filters (rows.py) and
masks `pii: true` dimensions (mask.py). Load-time checks of the block live in validate.py.
"""

from metrics_layer.access.grant import Grant, resolve_grant
from metrics_layer.access.restricted import RestrictedLayer, restrict

__all__ = ["Grant", "RestrictedLayer", "resolve_grant", "restrict"]
