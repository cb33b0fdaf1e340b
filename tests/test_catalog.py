"""The event catalog: both shapes load, `$ref`s resolve locally, bad catalogs are named precisely."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from diagnostics.catalog import (
    UNVERSIONED,
    action_of,
    load_catalog,
    load_schema_file,
    looks_like_schema,
    resource_of,
)
from diagnostics.errors import InputError
from tests.support.shared import GITHUB_SCHEMAS
from tests.support.shared import GITHUB_WEBHOOKS as GITHUB

FIXTURES = Path(__file__).parent / "fixtures" / "coverage"
needs_github = pytest.mark.skipif(not GITHUB_SCHEMAS.is_dir(), reason="GitHub webhook data not present")


@pytest.fixture(scope="module")
def github_catalog():
    return load_catalog(GITHUB_SCHEMAS)


def test_resource_and_action_split_on_the_last_dot() -> None:
    assert resource_of("customer.subscription.created") == "customer.subscription"
    assert action_of("customer.subscription.created") == "created"
    assert resource_of("push") == "push" and action_of("push") == ""


def test_yaml_catalog_loads_types_versions_and_defaults() -> None:
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    assert len(catalog) == 9
    invoice = catalog.event_types["invoice.paid"]
    assert invoice.version_names == ("v1", "v2")
    assert invoice.latest is not None and invoice.latest.name == "v2"
    assert invoice.description == "An invoice was paid in full."
    assert catalog.event_types["payout.created"].resource == "payouts"  # explicit resource wins
    assert catalog.event_types["report.generated"].resource == "report"  # bare-name entry
    assert catalog.event_types["customer.deleted"].versions == ()
    assert set(catalog.resources()) == {"invoice", "customer", "order", "payouts", "report"}


def test_schema_file_refs_resolve_to_files_next_to_the_catalog() -> None:
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    validator = catalog.validator("invoice.paid", "v2")
    good = {"id": "e", "type": "invoice.paid", "data": {"id": "in", "amount": 5, "currency": "eur", "status": "paid"}}
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "data": {**good["data"], "currency": "jpy"}}  # the enum lives in common.json
    assert [e.validator for e in validator.iter_errors(bad)] == ["enum"]
    assert catalog.validator("invoice.paid", "v2") is validator  # compiled once


def test_version_lookup_rules() -> None:
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    invoice = catalog.event_types["invoice.paid"]
    assert invoice.version(None).name == "v2"
    assert invoice.version("v1").name == "v1"
    assert invoice.version("v9") is None
    assert catalog.validator("customer.deleted") is None


def test_invalid_yaml_names_file_line_and_column() -> None:
    with pytest.raises(InputError) as info:
        load_catalog(FIXTURES / "bad" / "invalid.yaml")
    message = str(info.value)
    assert "invalid.yaml" in message and "invalid YAML" in message
    # The unterminated quote runs to the end of the file; the message also points at where it began.
    assert info.value.line == 5
    assert "quoted scalar started at line 3, column 18" in message


def test_duplicate_type_names_name_both_entries() -> None:
    with pytest.raises(InputError) as info:
        load_catalog(FIXTURES / "bad" / "duplicate.yaml")
    message = str(info.value)
    assert "duplicate.yaml" in message
    assert "event_types[2] (line 4)" in message and "'invoice.paid'" in message
    assert "event_types[0] (line 2)" in message


def test_invalid_json_schema_names_entry_version_and_place() -> None:
    with pytest.raises(InputError) as info:
        load_catalog(FIXTURES / "bad" / "bad_schema.yaml")
    message = str(info.value)
    assert "bad_schema.yaml" in message
    assert "event_types[1] ('order.created') version 'v1'" in message
    assert "not a valid JSON Schema" in message and "properties/id/type" in message


def test_dangling_ref_fails_at_load_time() -> None:
    with pytest.raises(InputError, match=r"\$ref 'missing.json#/\$defs/money' cannot be resolved"):
        load_catalog(FIXTURES / "bad" / "dangling_ref.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("event_types: {a: 1}\n", "`event_types` must be a list"),
        ("types: []\n", "needs a top-level `event_types:` list"),
        ("event_types:\n  - {name: a.b, verions: {}}\n", "unknown key 'verions'"),
        ("event_types:\n  - {description: no name}\n", "`name` is missing"),
        ("event_types:\n  - {name: a.b, versions: {v1: {schema: {}, schema_file: x.json}}}\n", "exactly one of"),
        ("event_types:\n  - {name: a.b, versions: {v1: {schema_file: nope.json}}}\n",
         "schema_file 'nope.json' not found"),
    ],
)
def test_malformed_entries_are_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_catalog(path)
    assert expected in str(info.value) and "catalog.yaml" in str(info.value)


def test_json_catalog_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    entry = {"name": "a.created", "versions": {"1": {"schema": {"type": "object"}}}}
    path.write_text(json.dumps({"event_types": [entry]}))
    catalog = load_catalog(path)
    assert catalog.event_types["a.created"].version_names == ("1",)
    path.write_text('{"event_types": [}')
    with pytest.raises(InputError) as info:
        load_catalog(path)
    assert info.value.line == 1 and info.value.column == 18


def test_refs_cannot_reach_the_network_or_leave_the_folder(tmp_path: Path) -> None:
    for ref in ("https://example.com/schema.json", "../outside.json"):
        (tmp_path / "outside.json").write_text('{"type": "string"}')
        folder = tmp_path / "cat"
        folder.mkdir(exist_ok=True)
        (folder / "a.created.json").write_text(json.dumps({"properties": {"x": {"$ref": ref}}}))
        with pytest.raises(InputError, match="cannot be resolved"):
            load_catalog(folder)


def test_folder_of_flat_schemas(tmp_path: Path) -> None:
    (tmp_path / "invoice.paid.json").write_text('{"type": "object", "properties": {"m": {"$ref": "defs/money.json"}}}')
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "money.json").write_text('{"type": "integer"}')
    catalog = load_catalog(tmp_path)
    assert catalog.names == ["invoice.paid"]  # defs/money.json is referenced: a component
    assert catalog.event_types["invoice.paid"].version_names == (UNVERSIONED,)
    assert [e.validator for e in catalog.validator("invoice.paid", "anything").iter_errors({"m": "x"})] == ["type"]


def test_folder_duplicate_and_empty(tmp_path: Path) -> None:
    (tmp_path / "push.schema.json").write_text('{"type": "object"}')
    (tmp_path / "push").mkdir()
    (tmp_path / "push" / "event.schema.json").write_text('{"type": "object"}')
    with pytest.raises(InputError, match="duplicate event type 'push'"):
        load_catalog(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no JSON Schema files"):
        load_catalog(empty)


def test_schema_file_helpers(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"$schema": "http://json-schema.org/draft-07/schema", "type": "object"}')
    schema, resolver = load_schema_file(path)
    assert schema["type"] == "object" and resolver is not None
    assert looks_like_schema(schema)
    assert not looks_like_schema({"id": "evt_1", "type": "invoice.paid", "data": {}})
    assert looks_like_schema({"type": "object", "properties": {"id": {"type": "string"}}})


@needs_github
def test_github_schema_folder_is_a_real_catalog(github_catalog) -> None:
    # 291 files: 67 shared components under common/, 224 event types (folder + action).
    assert len(github_catalog) == 224
    assert "issues.opened" in github_catalog and "push" in github_catalog
    assert not any(name.startswith("common") for name in github_catalog.names)
    assert github_catalog.event_types["issues.opened"].resource == "issues"
    assert len(github_catalog.event_types["pull_request.opened"].versions) == 1


@needs_github
def test_github_examples_validate_through_common_refs(github_catalog) -> None:
    payload = json.loads((GITHUB / "payload-examples/api.github.com/issues/opened.payload.json").read_text())
    assert list(github_catalog.validator("issues.opened").iter_errors(payload)) == []
    ghes = json.loads((GITHUB / "payload-examples/ghes-35/issues/opened.json").read_text())
    missing = {e.message for e in github_catalog.validator("issues.opened").iter_errors(ghes)}
    assert "'reactions' is a required property" in missing  # GHES 3.5 issues lack reactions


@needs_github
def test_github_catalog_loads_quickly() -> None:
    started = time.perf_counter()
    load_catalog(GITHUB_SCHEMAS)
    assert time.perf_counter() - started < 5.0  # measured ~0.3 s; generous for a loaded CI box


def test_folder_with_a_bad_schema_or_bad_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "invoice.paid.json").write_text('{"type": "object", "required": "id"}')
    with pytest.raises(InputError) as info:
        load_catalog(tmp_path)
    assert "invoice.paid.json" in str(info.value) and "event type 'invoice.paid'" in str(info.value)
    assert "not a valid JSON Schema" in str(info.value) and "(at required)" in str(info.value)
    (tmp_path / "invoice.paid.json").write_text('{"type": "object",\n "properties": {]}')
    with pytest.raises(InputError) as info:
        load_catalog(tmp_path)
    assert "invoice.paid.json" in str(info.value) and info.value.line == 2


def test_schema_file_outside_the_catalog_folder_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "private.json"
    secret.write_text('{"type": "object", "description": "TOP-SECRET-CONTENT"}')
    folder = tmp_path / "catalog"
    folder.mkdir()
    for rel in ("../private.json", str(secret)):
        path = folder / "catalog.yaml"
        path.write_text(f"event_types:\n  - {{name: a.b, versions: {{v1: {{schema_file: '{rel}'}}}}}}\n")
        with pytest.raises(InputError) as info:
            load_catalog(path)
        message = str(info.value)
        assert "outside the catalog's folder" in message and info.value.field == "schema_file"
        assert "TOP-SECRET" not in message and "\n" not in message


def test_a_link_out_of_a_catalog_folder_is_refused_unread(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text('{"type": "object", "description": "TOP-SECRET-CONTENT"}')
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "a.created.json").symlink_to(outside)
    with pytest.raises(InputError, match="outside the catalog's folder") as info:
        load_catalog(folder)
    assert "TOP-SECRET" not in str(info.value)


def test_hostile_yaml_catalogs_end_in_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("event_types: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match="nested more than") as info:
        load_catalog(deep)
    assert info.value.line == 1 and info.value.column is not None
    laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(laughs) + "\nevent_types: [*a9]\n")
    started = time.perf_counter()
    with pytest.raises(InputError, match="aliases expand to more than"):
        load_catalog(bomb)
    assert time.perf_counter() - started < 5  # refused from the node graph, never expanded


def test_a_schema_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "cat"
    folder.mkdir()
    (folder / "a.created.json").write_text('{"items": ' * 100_000 + "{}" + "}" * 100_000)
    with pytest.raises(InputError, match="nested more than"):
        load_catalog(folder)
