"""Where sqlglot's translation of the analyzer SQL is not what DuckDB means: per-dialect rewrites.

The analyzers write DuckDB SQL; `base.transpile` parses it once, applies the rewrites of the
target dialect below to the syntax tree, and lets sqlglot write the result. Each rewrite is one
construct whose meaning sqlglot's output changes or that the target lacks (checked construct by
construct, on the three real engines, by tests/engines/test_portable_sql.py):

postgres
- `contains(s, x)`: no such function; `strpos(s, x) > 0`.
- `regexp_extract(s, p, g)`: no such function; `(regexp_match(s, p))[g]`, '' when nothing matches
  (DuckDB's answer; NULL only for a NULL input).
- `json_valid(s)`: no such function before PostgreSQL 16; `pg_temp.wd_json_valid(s)`, created per
  session by the engine (`POSTGRES_FUNCTIONS`).
- `json_extract_string(s, path)`: sqlglot writes `json_extract_path_text(s, ...)`, which needs a
  `json` argument: the text is cast to json.
- `TRY_CAST(s AS t)`: sqlglot writes a plain CAST, which fails on the first bad value;
  `pg_temp.wd_try_<t>(s)` returns NULL instead.
- `round(x, n)`: PostgreSQL rounds only numeric to n places; x is cast to numeric.

spark
- `a / b`: DuckDB's `/` always gives a DOUBLE; Spark keeps DECIMAL when an operand is a decimal
  literal (`3.0 * n / d`), with six digits of scale: the numerator is cast to DOUBLE.
- `quantile_cont(x, q)`: sqlglot writes `percentile_cont(x, q)`, which Spark refuses; `percentile`
  is Spark's exact, interpolated percentile (the same numbers).
- `epoch(t)`: sqlglot writes `unix_timestamp(t)`, whole seconds; `unix_micros(t) / 1e6` keeps the
  fraction, as DuckDB does.
- `to_timestamp(n)`: sqlglot writes `from_unixtime` (text, whole seconds); `timestamp_seconds(n)`.
- `json_valid(s)`: no such function; `try_parse_json(s) IS NOT NULL` (NULL for a NULL input).

What is not rewritten stays out of the analyzers instead (ARCHITECTURE.md, the portable subset):
unnamed subqueries, `GROUP BY ALL`, `arg_max`, SEMI/ANTI joins, divisions without NULLIF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

# Functions the PostgreSQL engine creates in its session's pg_temp schema (STRICT: NULL in, NULL out).
POSTGRES_FUNCTIONS = (
    """CREATE FUNCTION pg_temp.wd_json_valid(value text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    BEGIN PERFORM value::json; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$""",
    """CREATE FUNCTION pg_temp.wd_try_double(value text) RETURNS double precision LANGUAGE plpgsql IMMUTABLE
    STRICT AS $$ BEGIN RETURN trim(value)::double precision; EXCEPTION WHEN others THEN RETURN NULL; END $$""",
    """CREATE FUNCTION pg_temp.wd_try_bigint(value text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    BEGIN RETURN trim(value)::bigint; EXCEPTION WHEN others THEN RETURN NULL; END $$""",
    """CREATE FUNCTION pg_temp.wd_try_integer(value text) RETURNS integer LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    BEGIN RETURN trim(value)::integer; EXCEPTION WHEN others THEN RETURN NULL; END $$""",
    """CREATE FUNCTION pg_temp.wd_try_timestamptz(value text) RETURNS timestamptz LANGUAGE plpgsql IMMUTABLE
    STRICT AS $$ BEGIN RETURN trim(value)::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $$""",
)
_PG_TRY = {
    exp.DataType.Type.DOUBLE: "wd_try_double",
    exp.DataType.Type.BIGINT: "wd_try_bigint",
    exp.DataType.Type.INT: "wd_try_integer",
    exp.DataType.Type.TIMESTAMPTZ: "wd_try_timestamptz",
}


def _pg_temp_call(function: str, *args: exp.Expression) -> exp.Expression:
    call = sqlglot.parse_one(f"pg_temp.{function}(x)", read="postgres")
    call.find(exp.Anonymous).set("expressions", list(args))  # type: ignore[union-attr]
    return call


def _text(node: exp.Expression) -> exp.Expression:
    return exp.cast(node, exp.DataType.build("text", dialect="postgres"))


def _pg_contains(node: exp.Contains) -> exp.Expression:
    return exp.GT(this=exp.Anonymous(this="strpos", expressions=[node.this, node.expression]),
                  expression=exp.Literal.number(0))


def _pg_regexp_extract(node: exp.RegexpExtract) -> exp.Expression:
    group = node.args.get("group") or exp.Literal.number(0)
    match = exp.Bracket(this=exp.Paren(this=exp.Anonymous(this="regexp_match", expressions=[node.this,
                                                                                             node.expression])),
                        expressions=[exp.Literal.number(max(int(group.name), 1) - 1)])  # sqlglot counts from 0
    empty = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null())),
                                 true=exp.Literal.string(""))])
    return exp.Coalesce(this=match, expressions=[empty])


def _pg_json_valid(node: exp.Anonymous) -> exp.Expression:
    if node.name.lower() != "json_valid":
        return node
    return _pg_temp_call("wd_json_valid", _text(node.expressions[0]))


def _pg_json_extract(node: exp.JSONExtractScalar) -> exp.Expression:
    node.set("this", exp.cast(node.this, exp.DataType.build("json", dialect="postgres")))
    return node


def _pg_try_cast(node: exp.TryCast) -> exp.Expression:
    function = _PG_TRY.get(node.to.this)
    if function is None:
        raise sqlglot.errors.UnsupportedError(f"TRY_CAST to {node.to.sql()} has no PostgreSQL rewrite (dialects.py)")
    return _pg_temp_call(function, _text(node.this))


def _pg_round(node: exp.Round) -> exp.Expression:
    if node.args.get("decimals") is not None:
        node.set("this", exp.cast(node.this, exp.DataType.build("numeric", dialect="postgres")))
    return node


def _spark_div(node: exp.Div) -> exp.Expression:
    if not (isinstance(node.this, exp.Cast) and node.this.to.this == exp.DataType.Type.DOUBLE):
        node.set("this", exp.cast(node.this, exp.DataType.build("double")))
    return node


def _spark_percentile(node: exp.PercentileCont) -> exp.Expression:
    return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])


def _spark_epoch(node: exp.TimeToUnix) -> exp.Expression:
    micros = exp.cast(exp.Anonymous(this="unix_micros", expressions=[node.this]), exp.DataType.build("double"))
    return exp.Paren(this=exp.Div(this=micros, expression=exp.Literal.number(1_000_000)))


def _spark_to_timestamp(node: exp.UnixToTime) -> exp.Expression:
    if node.args.get("scale") is not None:
        return node
    return exp.Anonymous(this="timestamp_seconds", expressions=[node.this])


def _spark_json_valid(node: exp.Anonymous) -> exp.Expression:
    if node.name.lower() != "json_valid":
        return node
    value = node.expressions[0]
    parsed = exp.Not(this=exp.Is(this=exp.Anonymous(this="try_parse_json", expressions=[value]),
                                 expression=exp.Null()))
    return exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())), true=parsed)])


@dataclass(frozen=True)
class Rewrite:
    node: type[exp.Expression]
    apply: Callable[[exp.Expression], exp.Expression]


REWRITES: dict[str, tuple[Rewrite, ...]] = {
    "postgres": (
        Rewrite(exp.Contains, _pg_contains),  # type: ignore[arg-type]
        Rewrite(exp.RegexpExtract, _pg_regexp_extract),  # type: ignore[arg-type]
        Rewrite(exp.Anonymous, _pg_json_valid),  # type: ignore[arg-type]
        Rewrite(exp.JSONExtractScalar, _pg_json_extract),  # type: ignore[arg-type]
        Rewrite(exp.TryCast, _pg_try_cast),  # type: ignore[arg-type]
        Rewrite(exp.Round, _pg_round),  # type: ignore[arg-type]
    ),
    "spark": (
        Rewrite(exp.Div, _spark_div),  # type: ignore[arg-type]
        Rewrite(exp.PercentileCont, _spark_percentile),  # type: ignore[arg-type]
        Rewrite(exp.TimeToUnix, _spark_epoch),  # type: ignore[arg-type]
        Rewrite(exp.UnixToTime, _spark_to_timestamp),  # type: ignore[arg-type]
        Rewrite(exp.Anonymous, _spark_json_valid),  # type: ignore[arg-type]
    ),
}


def rewrite(tree: exp.Expression, dialect: str) -> exp.Expression:
    """`tree` (parsed from DuckDB) with the target dialect's rewrites applied, innermost first."""
    rewrites = REWRITES.get(dialect, ())
    if not rewrites:
        return tree

    # Reversed pre-order visits every node after its children, so a rewrite sees rewritten arguments.
    for node in reversed(list(tree.walk(bfs=False))):
        new = node
        for r in rewrites:
            if type(new) is r.node:
                new = r.apply(new)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree
