"""Schema and sample diffs: each kind of change classified, and real GitHub drift named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.catalog import load_catalog
from diagnostics.schema_diff import (
    SchemaShaper,
    diff_samples,
    diff_schemas,
    shape_of_samples,
    shape_of_schema,
)
from tests.support.shared import GITHUB_WEBHOOKS as GITHUB

FIXTURES = Path(__file__).parent / "fixtures" / "coverage"
EXAMPLES = GITHUB / "payload-examples"
needs_github = pytest.mark.skipif(not GITHUB.is_dir(), reason="GitHub webhook data not present")


def obj(properties: dict, required: list[str] | None = None) -> dict:
    return {"type": "object", "properties": properties, "required": required or []}


def kinds(diff) -> set[tuple[str, str]]:
    return {(c.kind, c.path) for c in diff.changes}


def test_each_breaking_kind_is_found_and_classified() -> None:
    old = obj({
        "id": {"type": "string"},
        "memo": {"type": "string"},
        "amount": {"type": "integer"},
        "status": {"enum": ["open", "paid", "void"]},
        "customer": {"type": "string"},
        "note": {"type": "string"},
    }, ["id", "note"])
    new = obj({
        "id": {"type": "string"},
        "amount": {"type": "string"},
        "status": {"enum": ["open", "paid", "refunded"]},
        "customer": {"type": "string"},
        "note": {"type": "string"},
        "tax": {"type": "integer"},
    }, ["id", "customer"])
    diff = diff_schemas(old, new)
    assert kinds(diff) == {
        ("removed", "memo"), ("type-changed", "amount"), ("enum-value-removed", "status"),
        ("enum-value-added", "status"), ("made-required", "customer"), ("made-optional", "note"), ("added", "tax"),
    }
    breaking = {c.kind for c in diff.breaking}
    assert breaking == {"removed", "type-changed", "enum-value-removed", "made-required", "made-optional"}
    assert {c.kind for c in diff.additive} == {"enum-value-added", "added"}
    assert diff.changes[0].breaking  # breaking changes come first


def test_nullable_is_a_type_change_but_narrowing_is_additive() -> None:
    widened = diff_schemas(obj({"a": {"type": "string"}}), obj({"a": {"type": ["string", "null"]}}))
    assert kinds(widened) == {("type-changed", "a")}
    narrowed = diff_schemas(obj({"a": {"type": ["string", "null"]}}), obj({"a": {"type": "string"}}))
    assert kinds(narrowed) == {("type-narrowed", "a")} and not narrowed.breaking
    assert not diff_schemas(obj({"n": {"type": "number"}}), obj({"n": {"type": "integer"}})).breaking


def test_rename_is_detected_only_for_related_names_with_the_same_content() -> None:
    old = [{"amount": 1200, "currency": "eur"}, {"amount": 990, "currency": "usd"}]
    new = [{"amount_cents": 1200, "currency": "eur"}, {"amount_cents": 990, "currency": "usd"}]
    assert kinds(diff_samples(old, new)) == {("renamed", "amount")}
    unrelated = [{"total": 1200, "currency": "eur"}]
    assert kinds(diff_samples(old[:1], unrelated)) == {("removed", "amount"), ("added", "total")}


def test_removed_object_is_reported_once_with_its_nested_count() -> None:
    old = [{"id": 1, "owner": {"login": "a", "id": 2, "site": {"url": "u"}}}]
    new = [{"id": 1}]
    diff = diff_samples(old, new)
    assert [(c.kind, c.path, c.nested) for c in diff.changes] == [("removed", "owner", 4)]


def test_samples_ignore_null_and_empty_sides() -> None:
    old = [{"milestone": None, "labels": [], "language": None}]
    new = [{"milestone": {"title": "v1"}, "labels": [{"name": "bug"}], "language": "Python"}]
    assert diff_samples(old, new).changes == ()
    assert diff_samples(new, old).changes == ()


def test_schema_shapes_fold_refs_allof_and_oneof() -> None:
    schema = {
        "$defs": {"user": obj({"login": {"type": "string"}}, ["login"])},
        "type": "object",
        "required": ["sender", "issue"],
        "properties": {
            "sender": {"$ref": "#/$defs/user"},
            "issue": {"allOf": [{"$ref": "#/$defs/user"}, obj({"state": {"enum": ["open"]}}, ["state"])]},
            "assignee": {"oneOf": [{"$ref": "#/$defs/user"}, {"type": "null"}]},
            "labels": {"type": "array", "items": obj({"name": {"type": "string"}})},
        },
    }
    shape = shape_of_schema(schema)
    assert shape["sender.login"].required is True
    assert shape["issue.state"].enum == frozenset({'"open"'}) and shape["issue.login"].required is True
    assert shape["assignee"].types == frozenset({"object", "null"})
    assert shape["assignee.login"].required is True  # the null branch does not cancel requirements
    assert shape["labels[].name"].types == frozenset({"string"})


def test_recursive_schema_terminates() -> None:
    schema = {"$defs": {"node": obj({"value": {"type": "integer"}, "child": {"$ref": "#/$defs/node"}})},
              "$ref": "#/$defs/node"}
    shape = shape_of_schema(schema)
    assert "value" in shape and "child" in shape


def test_sample_shape_counts_presence() -> None:
    shape = shape_of_samples([{"a": 1, "b": [1, 2]}, {"a": 2.5}])
    assert shape["a"].seen == 2 and shape["a"].types == frozenset({"integer", "number"})
    assert shape["b[]"].seen == 2


def test_fixture_catalog_v1_to_v2_removes_memo_and_adds_tax() -> None:
    catalog = load_catalog(FIXTURES / "catalog.yaml")
    invoice = catalog.event_types["invoice.paid"]
    old = SchemaShaper().shape(invoice.versions[0].schema, catalog.resolver())
    assert old["data.currency"].enum == frozenset({'"usd"', '"eur"', '"gbp"'})  # through common.json
    diff = diff_schemas(invoice.versions[0].schema, invoice.versions[1].schema,
                        old_resolver=catalog.resolver(), new_resolver=catalog.resolver())
    assert kinds(diff) == {("removed", "data.memo"), ("added", "data.tax")}


@needs_github
def test_ghes_35_to_github_com_installation_deleted() -> None:
    # Checked by hand: GHES 3.5 sends installation timestamps as ISO text and an `enterprise` object;
    # the github.com example sends epoch integers and no enterprise.
    old = json.loads((EXAMPLES / "ghes-35/installation/deleted.json").read_text())
    new = json.loads((EXAMPLES / "api.github.com/installation/deleted.payload.json").read_text())
    assert isinstance(old["installation"]["created_at"], str)
    assert isinstance(new["installation"]["created_at"], int)
    diff = diff_samples([old], [new])
    found = kinds(diff)
    assert ("type-changed", "installation.created_at") in found
    assert ("type-changed", "installation.updated_at") in found
    enterprise = next(c for c in diff.changes if c.path == "enterprise")
    assert enterprise.kind == "removed" and enterprise.nested == len(old["enterprise"])
    assert ("added", "installation.suspended_at") in found


@needs_github
def test_ghes_34_and_35_examples_have_the_same_shapes() -> None:
    # Checked by hand: the two GHES folders hold the same example payloads.
    for path in (EXAMPLES / "ghes-34").rglob("*.json"):
        if path.name == "index.json":
            continue
        twin = EXAMPLES / "ghes-35" / path.relative_to(EXAMPLES / "ghes-34")
        assert diff_samples([json.loads(path.read_text())], [json.loads(twin.read_text())]).changes == ()


@needs_github
def test_github_shapes_follow_refs_between_components_and_do_not_depend_on_order() -> None:
    catalog = load_catalog(GITHUB / "payload-schemas" / "api.github.com")
    deployment = SchemaShaper().shape(catalog.event_types["deployment.created"].latest.schema, catalog.resolver())
    # deployment.schema.json -> app.schema.json -> user.schema.json, each `$ref` relative to its file
    assert deployment["deployment.performed_via_github_app.owner.login"].types == frozenset({"string"})
    names = catalog.names[:40]
    shared = SchemaShaper()
    forward = {n: shared.shape(catalog.event_types[n].latest.schema, catalog.resolver()) for n in names}
    backward_shaper = SchemaShaper()
    backward = {n: backward_shaper.shape(catalog.event_types[n].latest.schema, catalog.resolver())
                for n in reversed(names)}
    assert forward == backward
    assert forward[names[0]] == SchemaShaper().shape(catalog.event_types[names[0]].latest.schema, catalog.resolver())
    everything = SchemaShaper()
    for et in catalog:
        everything.shape(et.latest.schema, catalog.resolver())
    assert everything.unresolved == set()  # every `$ref` in the real catalog is followed


def test_unresolvable_refs_are_recorded() -> None:
    shaper = SchemaShaper()
    shape = shaper.shape(obj({"a": {"$ref": "missing.json"}}))
    assert shape["a"].types is None and shaper.unresolved == {"missing.json"}
