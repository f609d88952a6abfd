"""User-written SQL expressions, parsed through an allow-list and compiled to ibis values.

User text never reaches SQL: `parse_expression` validates it against grammar.py, and
`compile_expression` rebuilds it from ibis operations and literals.
"""

from metrics_layer.expressions.compile import compile_expression
from metrics_layer.expressions.parse import ParsedExpression, parse_expression

__all__ = ["ParsedExpression", "compile_expression", "parse_expression"]
