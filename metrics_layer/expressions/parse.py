"""Parse user expression text with sqlglot and accept it only if every node is allow-listed.

User text never reaches SQL: it becomes a validated sqlglot tree, which compile.py turns into
ibis operations node by node. Anything not in grammar.py is rejected here, with a message that
says what is not allowed and where it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import ibis.expr.datatypes as dt
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from metrics_layer import limits
from metrics_layer.errors import ExpressionError, suggest
from metrics_layer.expressions import grammar
from metrics_layer.expressions.cache import ByteBoundedCache

_DIALECT = Dialect.get_or_raise(None)
_PLAIN_NAME = re.compile(r"[^\W\d]\w*\Z")
_MAX_INT64 = 2**63 - 1
# Statement node classes; `Block` (multi-statement) only exists in newer sqlglot versions.
_STATEMENTS: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in ("Query", "DDL", "DML", "Command", "Block") if hasattr(exp, name)
)


@dataclass(frozen=True)
class ParsedExpression:
    """A validated expression: the original text, its sqlglot tree and the names it uses.

    Instances are cached and shared: treat `tree` as read-only.
    """

    text: str
    tree: exp.Expression = field(compare=False, repr=False)
    names: tuple[str, ...] = ()
    nodes: int = field(default=1, compare=False, repr=False)


class _Rejected(Exception):
    """Internal: a reason to reject, turned into ExpressionError with the caller's `what`."""


def parse_expression(text: str, *, what: str = "expression") -> ParsedExpression:
    """Parse and validate `text`; raise ExpressionError naming `what` and the offending part.

    Parsing sits on the hot compile path: identical texts are parsed once, in a cache bounded
    by bytes (limits.PARSE_CACHE_BYTES). Texts and trees over the size limits are refused
    before they cost much (ExpressionTooLarge, a QueryError).
    """
    if not isinstance(text, str):
        raise ExpressionError(f"{what}: expected SQL expression text, got {type(text).__name__}")
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    limits.check_expression_text(text)
    try:
        parsed = _parse(text)
    except _Rejected as err:
        raise ExpressionError(f"{what} {_shown(text)}: {err}") from None
    except RecursionError:
        raise ExpressionError(f"{what} {text[:60]!r}...: is nested too deeply") from None
    _CACHE.put(text, parsed)
    return parsed


def _shown(text: str) -> str:
    """The text as quoted in a message: whole when short, its start when long."""
    return repr(text) if len(text) <= 200 else f"{text[:60]!r}..."


def _cost(text: str, parsed: ParsedExpression) -> int:
    """Bytes an entry holds: its text twice (the tree keeps copies of names and literals) and
    about _NODE_BYTES per syntax node (measured with tracemalloc on filters and IN lists: 350-410
    bytes per node), plus the entry's own objects."""
    return 2 * len(text.encode()) + _NODE_BYTES * parsed.nodes + _ENTRY_BYTES


_NODE_BYTES = 450
_ENTRY_BYTES = 4096
_CACHE: ByteBoundedCache[ParsedExpression] = ByteBoundedCache(
    lambda: limits.PARSE_CACHE_BYTES, _cost
)


def _parse(text: str) -> ParsedExpression:
    if not text.strip():
        raise _Rejected("is empty; write a SQL expression such as `amount > 0`")
    _check_raw_comments(text)
    try:
        tokens = _DIALECT.tokenize(text)
    except TokenError as err:
        raise _Rejected(f"cannot be read: {err}") from None
    for token in tokens:
        if token.comments:
            raise _Rejected("comments are not allowed in expressions")
        if token.token_type == TokenType.SEMICOLON:
            raise _Rejected("`;` is not allowed: write a single expression, not statements")
    try:
        trees = _DIALECT.parser().parse(tokens, text)
    except ParseError as err:
        raise _Rejected(f"cannot be parsed: {_parse_error_text(err)}") from None
    if len(trees) != 1 or trees[0] is None:
        raise _Rejected("write exactly one expression")
    tree = trees[0]
    nodes = sum(1 for _ in tree.walk())
    limits.check_expression_nodes(nodes, text)
    names: dict[str, None] = {}
    _Validator(names).check(tree, top=True)
    return ParsedExpression(text=text, tree=tree, names=tuple(names), nodes=nodes)


def _check_raw_comments(text: str) -> None:
    """Belt and braces: refuse `--` and `/*` anywhere outside quoted strings or identifiers."""
    quote: str | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None  # a doubled quote ('') simply closes and re-opens
        elif ch in "'\"":
            quote = ch
        elif text.startswith("--", i) or text.startswith("/*", i):
            raise _Rejected("comments (`--`, `/* */`) are not allowed in expressions")
        i += 1


def _parse_error_text(err: ParseError) -> str:
    """sqlglot's message without its ANSI-highlighted context."""
    if err.errors:
        first = err.errors[0]
        where = f"at column {first.get('col')}"
        missing = re.match(
            r"Required keyword: '(\w+)' missing for <class 'sqlglot\.expressions\.(\w+)'>",
            str(first.get("description")),
        )
        if missing:
            return f"an operand is missing for {missing.group(2).upper()} {where} (incomplete expression)"
        return f"{first.get('description')} {where}"
    return re.sub(r"\x1b\[[0-9;]*m", "", str(err)).splitlines()[0]


def _node_sql(node: exp.Expression) -> str:
    try:
        text = node.sql()
    except Exception:  # only used for messages; never let it hide the real error
        text = type(node).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name)
    if isinstance(node, exp.Func):
        return str(node.sql_name()).lower()  # type: ignore[no-untyped-call]
    return type(node).__name__.lower()


class _Validator:
    """Walks the tree once: enforces the allow-list and records names in order of appearance."""

    def __init__(self, names: dict[str, None]) -> None:
        self.names = names

    def check(self, node: exp.Expression, *, top: bool = False, in_case: bool = False) -> None:
        if node.comments:
            raise _Rejected("comments are not allowed in expressions")
        if isinstance(node, exp.Column | exp.Dot):
            self.names.setdefault(self._name(node), None)
            return
        kind = type(node)
        allowed = grammar.NODE_ARGS.get(kind)
        if allowed is None or (kind is exp.If and not in_case):
            raise _Rejected(self._why_not(node, top))
        self._check_specific(node)
        for key, value in node.args.items():
            children = value if isinstance(value, list) else [value]
            children = [c for c in children if isinstance(c, exp.Expression)]
            if not children:
                continue
            if key not in allowed:
                raise _Rejected(
                    f"this form of {_function_name(node).upper()} is not supported "
                    f"(in `{_node_sql(node)}`)"
                )
            if self._is_part_argument(node, key):
                continue
            for child in children:
                self.check(child, in_case=isinstance(node, exp.Case) and key == "ifs")

    @staticmethod
    def _is_part_argument(node: exp.Expression, key: str) -> bool:
        """Date parts, units and cast types are keywords, validated by _check_specific."""
        return (
            (isinstance(node, exp.Extract) and key == "this")
            or (isinstance(node, exp.DateTrunc | exp.Interval) and key == "unit")
            or (isinstance(node, exp.Interval) and key == "this")
            or (isinstance(node, exp.Cast) and key == "to")
        )

    def _name(self, node: exp.Column | exp.Dot) -> str:
        if isinstance(node, exp.Dot) and not isinstance(node.this, exp.Column | exp.Dot):
            raise _Rejected(f"`.` may only join name parts (in `{_node_sql(node)}`)")
        parts = node.parts
        if not parts or any(not isinstance(p, exp.Identifier) for p in parts):
            if any(isinstance(p, exp.Star) for p in parts) or isinstance(node.this, exp.Star):
                raise _Rejected("`*` is not allowed; name the columns")
            raise _Rejected(f"`{_node_sql(node)}` is not a name")
        texts = []
        for part in parts:
            assert isinstance(part, exp.Identifier)  # checked above
            ident = str(part.this)
            if not part.quoted and not _PLAIN_NAME.match(ident):
                if ident.startswith(("$", "@", ":", "?")):
                    raise _Rejected(f"parameters/placeholders such as `{ident}` are not allowed")
                raise _Rejected(f"`{ident}` is not a valid name (quote it with double quotes)")
            texts.append(ident)
        return ".".join(texts)

    def _check_specific(self, node: exp.Expression) -> None:
        if isinstance(node, exp.Literal) and not node.is_string:
            text = str(node.this)
            if re.fullmatch(r"\d+", text) and int(text) > _MAX_INT64:
                raise _Rejected(f"integer literal {text} is out of the 64-bit range")
        elif isinstance(node, exp.Cast):
            cast_target(node.to)
        elif isinstance(node, exp.Extract):
            extract_part(node)
        elif isinstance(node, exp.DateTrunc):
            trunc_unit(node)
        elif isinstance(node, exp.Interval):
            interval_parts(node)
        elif isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null | exp.Boolean):
                raise _Rejected("IS may only be followed by [NOT] NULL, TRUE or FALSE")
        elif isinstance(node, exp.In):
            if node.args.get("query") is not None:
                raise _Rejected("subqueries are not allowed in expressions")
            if not node.expressions:
                raise _Rejected("IN needs a parenthesised list of at least one value")
        elif isinstance(node, exp.Between) and node.args.get("symmetric"):
            raise _Rejected("BETWEEN SYMMETRIC is not supported")
        elif isinstance(node, exp.Case) and not node.args.get("ifs"):
            raise _Rejected("CASE needs at least one WHEN branch")

    @staticmethod
    def _why_not(node: exp.Expression, top: bool) -> str:
        if isinstance(node, exp.Subquery | exp.Exists) or (isinstance(node, exp.Query) and not top):
            return "subqueries are not allowed in expressions"
        if isinstance(node, _STATEMENTS):
            return "statements are not allowed; write a single SQL expression"
        if isinstance(node, exp.Star):
            return "`*` is not allowed; name the columns"
        if isinstance(node, exp.Placeholder | exp.Parameter):
            return "parameters/placeholders (`?`, `:name`, `@name`) are not allowed"
        if isinstance(node, exp.Window):
            return "window functions (OVER ...) are not allowed in expressions"
        if isinstance(node, exp.AggFunc):
            return (
                f"aggregate function {_function_name(node).upper()} is not allowed here: "
                "aggregation is declared separately (`agg:` of a measure)"
            )
        if isinstance(node, exp.Alias):
            return "aliases (`AS name`) are not allowed in expressions"
        if isinstance(node, exp.Func):
            name = _function_name(node)
            what = (
                f"unknown function {name!r}"
                if isinstance(node, exp.Anonymous)
                else f"function {name!r} is not allowed"
            )
            return (
                f"{what}{suggest(name, grammar.FUNCTIONS)}; "
                f"allowed functions: {', '.join(grammar.FUNCTIONS)}"
            )
        if top and not isinstance(node, exp.Condition):
            return "statements are not allowed; write a single SQL expression"
        return f"`{_node_sql(node)}` ({type(node).__name__}) is not allowed in expressions"


def cast_target(to: exp.DataType) -> dt.DataType:
    """The ibis type for an allow-listed CAST target; also used by the compiler."""
    kind = to.this
    if kind == exp.DataType.Type.DECIMAL:
        params = [p.this for p in to.expressions if isinstance(p, exp.DataTypeParam)]
        if not params or not all(isinstance(p, exp.Literal) and p.is_int for p in params):
            raise _Rejected("DECIMAL/NUMERIC needs an explicit precision, e.g. decimal(18, 2)")
        precision = int(params[0].this)
        scale = int(params[1].this) if len(params) > 1 else 0
        if not 1 <= precision <= 38 or not 0 <= scale <= precision or len(params) > 2:
            raise _Rejected(
                f"decimal({precision}, {scale}) is not valid: 1 <= p <= 38, 0 <= s <= p"
            )
        return dt.Decimal(precision, scale)
    target = grammar.CAST_TYPES.get(kind)
    text_type = kind in (exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR)
    if target is None or (to.expressions and not text_type):
        raise _Rejected(
            f"cannot CAST to {to.sql()}; allowed types: {', '.join(grammar.CAST_TYPE_NAMES)}"
        )
    return target


def _keyword(node: exp.Expression | None) -> str | None:
    if isinstance(node, exp.Var) or (isinstance(node, exp.Literal) and node.is_string):
        return str(node.this)
    if isinstance(node, exp.Column) and not node.table:
        return str(node.name)
    return None


def extract_part(node: exp.Extract) -> str:
    """The lower-case EXTRACT part, checked against grammar.EXTRACT_PARTS."""
    part = _keyword(node.this)
    if part is None or part.lower() not in grammar.EXTRACT_PARTS:
        raise _Rejected(
            f"EXTRACT part {part or _node_sql(node.this)!r} is not supported; "
            f"allowed: {', '.join(sorted(grammar.EXTRACT_PARTS))}"
        )
    return part.lower()


def trunc_unit(node: exp.DateTrunc) -> str:
    """The ibis truncate unit of DATE_TRUNC('unit', x)."""
    unit = _keyword(node.args.get("unit"))
    key = grammar.unit_name(unit) if unit else None
    if key not in grammar.TRUNC_UNITS:
        raise _Rejected(
            f"DATE_TRUNC unit {unit!r} is not supported; allowed: {', '.join(grammar.TRUNC_UNITS)}"
        )
    return grammar.TRUNC_UNITS[key]


def interval_parts(node: exp.Interval) -> tuple[str, int]:
    """(ibis.interval keyword, count) for INTERVAL '7' DAY / INTERVAL '7 days'."""
    value, unit = node.this, _keyword(node.args.get("unit"))
    text = str(value.this).strip() if isinstance(value, exp.Literal) else ""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise _Rejected("INTERVAL needs a whole number and a unit, e.g. INTERVAL '7' DAY")
    key = grammar.unit_name(unit) if unit else None
    if key not in grammar.INTERVAL_UNITS:
        raise _Rejected(
            f"INTERVAL unit {unit!r} is not supported; allowed: {', '.join(grammar.INTERVAL_UNITS)}"
        )
    return grammar.INTERVAL_UNITS[key], int(text)
