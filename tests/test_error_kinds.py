"""One vocabulary of error kinds: what the probe records and what the importers classify into."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import duckdb
import pytest

from diagnostics.error_kinds import LOG_KINDS, PROBE_KINDS, ErrorKind
from diagnostics.logs import taxonomy
from diagnostics.net import probe
from diagnostics.playbooks import PLAYBOOK_DIR

SOURCE_DIR = Path(__file__).resolve().parent.parent / "diagnostics"
# The vocabularies as they were spelled before the enum: stored runs, logs and reports hold these.
OLD_PROBE_KINDS = ("invalid_url", "dns", "blocked", "connection_refused", "connect_timeout", "connection_reset",
                   "tls", "timeout", "protocol", "other")
OLD_LOG_KINDS = ("timeout", "connection_refused", "connection_reset", "dns", "tls", "blocked", "protocol", "other")


def _kind_values(tree: ast.AST) -> list[ast.expr]:
    """Every expression assigned to an `error` attribute or passed as `error=` in a module."""
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets = target.elts if isinstance(target, ast.Tuple) else [target]
                values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                for one, value in zip(targets, values, strict=False):
                    if isinstance(one, ast.Attribute) and one.attr == "error":
                        found.append(value)
        elif isinstance(node, ast.keyword) and node.arg == "error":
            found.append(node.value)
    return found


def _members_named(expr: ast.expr) -> set[str]:
    """The ErrorKind members an expression names (both branches of a conditional)."""
    if isinstance(expr, ast.IfExp):
        return _members_named(expr.body) | _members_named(expr.orelse)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "ErrorKind":
        return {expr.attr}
    return set()


def test_values_are_the_old_strings() -> None:
    assert tuple(PROBE_KINDS) == OLD_PROBE_KINDS
    assert tuple(LOG_KINDS) == OLD_LOG_KINDS
    assert set(ErrorKind) == set(PROBE_KINDS) | set(LOG_KINDS)
    assert probe.ERROR_KINDS == PROBE_KINDS and taxonomy.ERROR_KINDS == LOG_KINDS


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_a_member_is_its_string_everywhere(kind: ErrorKind) -> None:
    assert kind == kind.value and hash(kind) == hash(kind.value)
    assert str(kind) == f"{kind}" == "%s" % kind == kind.value  # noqa: UP031 (the old formatting too)
    assert json.dumps({"error": kind}) == json.dumps({"error": kind.value})
    assert ErrorKind(kind.value) is kind


def test_every_kind_the_probe_records_is_a_member() -> None:
    for path in (SOURCE_DIR / "net" / "probe.py", SOURCE_DIR / "pipeline" / "probe.py"):
        values = _kind_values(ast.parse(path.read_text(encoding="utf-8")))
        literals = [ast.unparse(v) for v in values if isinstance(v, ast.Constant) and v.value is not None]
        assert not literals, f"{path.name} records an error kind as a bare literal: {literals}"
    values = _kind_values(ast.parse((SOURCE_DIR / "net" / "probe.py").read_text(encoding="utf-8")))
    produced = set().union(*(_members_named(v) for v in values))
    assert {ErrorKind[name] for name in produced} == set(PROBE_KINDS)


def test_every_kind_the_taxonomy_classifies_into_is_a_log_kind() -> None:
    targets = {kind for kind, _ in taxonomy.TEXT_PATTERNS} | set(taxonomy.HOOKDECK_ERROR_CODES.values())
    targets |= {taxonomy.classify_error_text("something nobody spells"), taxonomy.hookdeck_error_kind("NEW_CODE")}
    assert all(isinstance(kind, ErrorKind) for kind in targets)
    assert targets == set(LOG_KINDS)
    for kind in LOG_KINDS:  # a kind written as a kind is kept, case-insensitively
        assert taxonomy.classify_error_text(kind.value.upper()) is kind


def test_the_sql_classification_emits_the_same_strings() -> None:
    texts = ["timed out", "TLS handshake timeout", "Connection refused", "EOF", "no such host", "ssrf",
             "CONNECT_TIMEOUT", "http2 stream error", "what happened", "dns", "", None]
    sql = taxonomy.error_kind_sql("t")
    assert "ErrorKind" not in sql
    conn = duckdb.connect()
    conn.execute("CREATE TABLE x (i INTEGER, t VARCHAR)")
    conn.executemany("INSERT INTO x VALUES (?, ?)", list(enumerate(texts)))
    query = f"SELECT {sql} FROM x ORDER BY i"  # noqa: S608 (our own SQL)
    got = [row[0] for row in conn.execute(query).fetchall()]
    assert got == [taxonomy.classify_error_text(t) for t in texts]
    assert all(type(value) is str for value in got if value is not None)


def test_every_member_named_in_the_source_exists() -> None:
    missing = {}
    for path in SOURCE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.Attribute) and _members_named(node)
            if named and node.attr not in ErrorKind.__members__:
                missing[f"{path.relative_to(SOURCE_DIR)}:{node.lineno}"] = node.attr
    assert not missing


def test_kinds_the_playbooks_name_are_members() -> None:
    """A playbook that tells the reader to look for a kind in the log spells it as the log does."""
    kind_shaped = re.compile(r"^(?:connection|connect|invalid)_[a-z_]+$|^[a-z_]*timeout[a-z_]*$")
    named = {
        token: path.name
        for path in PLAYBOOK_DIR.glob("*.md")
        for token in re.findall(r"`([a-z][a-z_]*)`", path.read_text(encoding="utf-8"))
        if kind_shaped.match(token)
    }
    assert "connection_refused" in named  # outage-window.md reads the failure groups by kind
    unknown = {token: where for token, where in named.items() if token not in {k.value for k in ErrorKind}}
    assert not unknown, f"playbooks name kinds the code does not produce: {unknown}"
