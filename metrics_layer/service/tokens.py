"""Bearer tokens: tokens.yml maps the lowercase hex SHA-256 of each token to its caller.

    <sha256 hex>: {user: ana, policies: [own_country], attributes: {country: DE}}
    <sha256 hex>: {user: admin, unrestricted: true}

Only hashes are stored, so the file does not reveal tokens. A presented token is hashed and
compared with every entry using `hmac.compare_digest`, so the time taken does not depend on
how much of a hash matched. An entry must name its policies or say `unrestricted: true`: a
caller without policies never silently sees everything. `operations: [...]` optionally limits
the operations a token may call (others are 403).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from metrics_layer.errors import DefinitionError, Location

_HEX = re.compile(r"[0-9a-f]{64}")
OPERATIONS = (
    "list_metrics",
    "describe_metric",
    "list_dimensions",
    "dimension_values",
    "query",
    "sql",
    "retention",
    "funnel",
    "experiment",
)


@dataclass(frozen=True)
class Caller:
    """Who is asking, and the policies and attributes that restrict what they see."""

    user: str
    policies: tuple[str, ...] = ()
    attributes: tuple[tuple[str, Any], ...] = ()
    unrestricted: bool = False
    operations: frozenset[str] = field(default_factory=lambda: frozenset(OPERATIONS))

    @property
    def key(self) -> tuple[Any, ...]:
        """What identifies the view of the data this caller has (for layers and the cache)."""
        return (self.unrestricted, self.policies, self.attributes)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The parsed token file."""

    def __init__(self, entries: dict[str, Caller]) -> None:
        self._entries = list(entries.items())

    @classmethod
    def load(cls, path: str | Path) -> Tokens:
        text = Path(path).read_text()
        data = yaml.safe_load(text) or {}
        where = str(path)
        if not isinstance(data, dict):
            raise DefinitionError(
                "a token file is a mapping from SHA-256 hex to a caller", Location(where)
            )
        return cls({k: _caller(where, k, v) for k, v in data.items()})

    def __len__(self) -> int:
        return len(self._entries)

    def callers(self) -> list[Caller]:
        return [c for _, c in self._entries]

    def find(self, token: str | None) -> Caller | None:
        """The caller of a presented token, or None; every entry is compared in constant time."""
        if not token:
            return None
        digest = hash_token(token).encode()
        found = None
        for key, caller in self._entries:
            if hmac.compare_digest(digest, key.encode()):
                found = caller
        return found


def _caller(where: str, key: Any, value: Any) -> Caller:
    field_ = str(key)[:12]
    loc = Location(where, None, field_)
    if not isinstance(key, str) or not _HEX.fullmatch(key):
        raise DefinitionError(
            "each key is the lowercase hex SHA-256 of a token (64 characters 0-9a-f); "
            'compute it with: python -c "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" TOKEN',
            loc,
        )
    if not isinstance(value, dict):
        raise DefinitionError("each entry is {user, policies, attributes}", loc)
    unknown_keys = set(value) - {"user", "policies", "attributes", "unrestricted", "operations"}
    if unknown_keys:
        raise DefinitionError(f"unknown field(s) {sorted(unknown_keys)} in a token entry", loc)
    user = value.get("user")
    if not isinstance(user, str) or not user:
        raise DefinitionError("a token entry needs `user` (text)", loc)
    policies = value.get("policies") or []
    if isinstance(policies, str):
        policies = [policies]
    unrestricted = value.get("unrestricted", False) is True
    if not policies and not unrestricted:
        raise DefinitionError(
            f"token of {user!r} names no policies; list them, or write unrestricted: true", loc
        )
    if policies and unrestricted:
        raise DefinitionError(
            f"token of {user!r}: policies and unrestricted: true exclude each other", loc
        )
    attributes = value.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise DefinitionError(f"token of {user!r}: attributes is a mapping", loc)
    ops = value.get("operations")
    allowed = frozenset(OPERATIONS if ops is None else ops)
    if not allowed <= set(OPERATIONS):
        raise DefinitionError(
            f"token of {user!r}: unknown operation(s) {sorted(allowed - set(OPERATIONS))}", loc
        )
    return Caller(
        user,
        tuple(str(p) for p in policies),
        tuple(sorted(attributes.items())),
        unrestricted,
        allowed,
    )
