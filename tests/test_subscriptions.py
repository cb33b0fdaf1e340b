"""Subscriptions from CSV, JSON/YAML and a real SQL database; patterns; bad rows named."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from diagnostics.errors import InputError
from diagnostics.subscriptions import Subscription, load_subscriptions, subscribers

FIXTURES = Path(__file__).parent / "fixtures" / "coverage"


def test_csv_splits_types_and_keeps_versions() -> None:
    subs = load_subscriptions(FIXTURES / "subscriptions.csv")
    pairs = {(s.endpoint, s.event_type, s.payload_version) for s in subs}
    assert ("ep_a", "invoice.created", "v2") in pairs and ("ep_a", "invoice.paid", "v2") in pairs
    assert ("ep_c", "invoice.paid", "v1") in pairs  # `|` separated
    assert ("ep_a", "order.updated", None) in pairs  # empty version cell
    assert len(subs) == 9
    assert subs[0].source == "subscriptions.csv:2"


def test_patterns_match_by_wildcard() -> None:
    subs = load_subscriptions(FIXTURES / "subscriptions.csv")
    assert subscribers(subs, "invoice.voided") == {"ep_b", "ep_d"}
    assert subscribers(subs, "order.updated") == {"ep_a", "ep_d"}
    assert Subscription("e", "invoice.*").is_pattern and not Subscription("e", "invoice.paid").is_pattern


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("endpoint,type\nep,a.b\n", "lacks the column 'event_type'", 1),
        ("endpoint,event_type\n,a.b\n", "endpoint is empty", 2),
        ("endpoint,event_type\nep,\n", "event_type is empty", 2),
        ("endpoint,event_type\nep,a.b,extra\n", "expected 2 cells, found 3", 2),
    ],
)
def test_bad_csv_rows_are_named(tmp_path: Path, text: str, message: str, line: int) -> None:
    path = tmp_path / "subs.csv"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_subscriptions(path)
    assert message in str(info.value) and info.value.line == line and "subs.csv" in str(info.value)


def test_json_and_yaml_shapes(tmp_path: Path) -> None:
    listed = tmp_path / "subs.json"
    listed.write_text(json.dumps({"subscriptions": [
        {"endpoint_id": "ep_1", "filter_types": ["a.created", "a.updated"], "version": "2"},
        {"url": "https://x.example.com/h", "event_type": "b.deleted"},
    ]}))
    subs = load_subscriptions(listed)
    assert {(s.endpoint, s.event_type, s.payload_version) for s in subs} == {
        ("ep_1", "a.created", "2"), ("ep_1", "a.updated", "2"), ("https://x.example.com/h", "b.deleted", None)}
    mapping = tmp_path / "subs.yaml"
    mapping.write_text("ep_1: [a.created]\nep_2: ['*']\n")
    assert {(s.endpoint, s.event_type) for s in load_subscriptions(mapping)} == {("ep_1", "a.created"),
                                                                                 ("ep_2", "*")}
    bad = tmp_path / "bad.json"
    bad.write_text('[{"endpoint": "ep"}]')
    with pytest.raises(InputError, match="entry 0 \\(ep\\): event_type is missing"):
        load_subscriptions(bad)


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_subscriptions(tmp_path / "none.csv")
    other = tmp_path / "subs.txt"
    other.write_text("x")
    with pytest.raises(InputError, match=r"\.csv, \.json, \.yaml"):
        load_subscriptions(other)


def _sqlite_subscriptions(path: Path) -> str:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE webhook_subs (endpoint_id TEXT, topic TEXT, api_version TEXT)")
        db.executemany("INSERT INTO webhook_subs VALUES (?, ?, ?)",
                       [("ep_1", "invoice.paid", "v2"), ("ep_2", "invoice.paid;invoice.created", None)])
    return f"sqlite:///{path}"


def test_sqlite_table_with_mapping(tmp_path: Path) -> None:
    url = _sqlite_subscriptions(tmp_path / "subs.db")
    mapping = {"endpoint": "endpoint_id", "event_type": "topic", "payload_version": "api_version"}
    subs = load_subscriptions(url, table="webhook_subs", mapping=mapping)
    assert {(s.endpoint, s.event_type, s.payload_version) for s in subs} == {
        ("ep_1", "invoice.paid", "v2"), ("ep_2", "invoice.paid", None), ("ep_2", "invoice.created", None)}
    with pytest.raises(InputError, match="lacks a column for 'endpoint'"):
        load_subscriptions(url, table="webhook_subs")
    with pytest.raises(InputError, match="not found in the subscriptions database"):
        load_subscriptions(url, table="nope")


def test_sqlite_query(tmp_path: Path) -> None:
    url = _sqlite_subscriptions(tmp_path / "subs.db")
    subs = load_subscriptions(url, query="SELECT endpoint_id AS endpoint, topic AS event_type FROM webhook_subs "
                                         "WHERE endpoint_id = 'ep_1'")
    assert [(s.endpoint, s.event_type, s.payload_version) for s in subs] == [("ep_1", "invoice.paid", None)]


@pytest.mark.postgres
def test_postgres_table(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS coverage_subscriptions"))
        conn.execute(sa.text("CREATE TABLE coverage_subscriptions (endpoint text, event_type text, "
                             "payload_version text)"))
        conn.execute(sa.text("INSERT INTO coverage_subscriptions VALUES ('ep_pg', 'order.created', '2025-06-01')"))
    engine.dispose()
    subs = load_subscriptions(postgres_url, table="coverage_subscriptions")
    assert [(s.endpoint, s.event_type, s.payload_version) for s in subs] == [("ep_pg", "order.created", "2025-06-01")]


def test_hostile_documents_end_in_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("subscriptions: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match="nested more than"):
        load_subscriptions(deep)
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    laughs += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(laughs) + "\nsubscriptions: {ep_1: *a9}\n")
    with pytest.raises(InputError, match="aliases expand"):
        load_subscriptions(bomb)
    deep_json = tmp_path / "deep.json"
    deep_json.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested more than"):
        load_subscriptions(deep_json)
