"""Compare two versions of a payload: two JSON Schemas, or two sets of sample payloads.

Both inputs are first reduced to a *shape*: every field path (`issue.user.login`, `labels[].name`)
with the JSON types it may hold, whether it is required, and its allowed enum values. Two shapes
are then compared field by field. The verdicts take the point of view of a consumer that parses
the payload:

* breaking: a field removed or renamed, a type changed (a new type or `null` may now arrive), an
  enum value removed, a field made required, a required field made optional (it may now be absent);
* additive: a field added, an enum value added, a type narrowed.

Shapes inferred from samples know nothing about `required` or enums, and a field seen only as
`null` on one side has no type to compare, so sample diffs report removals, additions and type
changes only. A removed object is reported once with the count of nested fields it took along.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:  # referencing does not export its Resolver class
    from referencing._core import Resolver

MAX_DEPTH = 24
# Fields that name the payload version: their allowed value changes with every version by design.
VERSION_FIELDS = frozenset({"api_version", "apiVersion", "version", "payload_version", "schema_version"})
MAX_VALUES = 20
RENAME_SIMILARITY = 0.8

# What a consumer sees change, and whether its parser can break on it.
BREAKING_KINDS = ("removed", "renamed", "type-changed", "enum-value-removed", "made-required", "made-optional")
ADDITIVE_KINDS = ("added", "enum-value-added", "type-narrowed")


@dataclass(frozen=True)
class FieldShape:
    """What one field path may hold. None means "unknown" (no constraint, or not observable)."""

    path: str
    types: frozenset[str] | None
    required: bool | None = None
    enum: frozenset[str] | None = None
    values: frozenset[str] = frozenset()
    seen: int = 0


@dataclass(frozen=True)
class Change:
    """One difference between two shapes."""

    kind: str
    path: str
    detail: str
    nested: int = 0

    @property
    def breaking(self) -> bool:
        return self.kind in BREAKING_KINDS

    def to_row(self) -> dict[str, Any]:
        return {"change": self.kind, "field": self.path, "breaking": self.breaking, "detail": self.detail}


@dataclass(frozen=True)
class ShapeDiff:
    """The changes from `old` to `new`, breaking ones first."""

    old_label: str
    new_label: str
    changes: tuple[Change, ...] = field(default=())

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def additive(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]


Shape = dict[str, FieldShape]


# --- paths ----------------------------------------------------------------------------------------


def join_path(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def parent_of(path: str) -> str:
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ""


def leaf_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _is_under(path: str, ancestor: str) -> bool:
    return path.startswith(ancestor + ".") or path.startswith(ancestor + "[]")


# --- shapes from samples --------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_of_samples(payloads: Iterable[Any]) -> Shape:
    """The shape observed across sample payloads: types seen per path and how often it was present."""
    types: dict[str, set[str]] = {}
    seen: dict[str, int] = {}
    values: dict[str, set[str]] = {}

    def visit(value: Any, path: str, depth: int) -> None:
        if path:
            types.setdefault(path, set()).add(json_type(value))
            seen[path] = seen.get(path, 0) + 1
            bucket = values.setdefault(path, set())
            if not isinstance(value, (dict, list)) and len(bucket) < MAX_VALUES:
                bucket.add(json.dumps(value, sort_keys=True))
        if depth >= MAX_DEPTH:
            return
        if isinstance(value, dict):
            for key, child in value.items():
                visit(child, join_path(path, str(key)), depth + 1)
        elif isinstance(value, list):
            for item in value:
                visit(item, f"{path}[]", depth + 1)

    for payload in payloads:
        visit(payload, "", 0)
    return {
        p: FieldShape(path=p, types=frozenset(t), values=frozenset(values.get(p, ())), seen=seen[p])
        for p, t in types.items()
    }


# --- shapes from JSON Schemas ---------------------------------------------------------------------


@dataclass
class _Summary:
    """A schema node with `$ref`, allOf/anyOf/oneOf folded in."""

    types: set[str] | None = None
    enum: set[str] | None = None
    required: set[str] = field(default_factory=set)
    props: dict[str, list[tuple[Any, Resolver[Any]]]] = field(default_factory=dict)
    items: list[tuple[Any, Resolver[Any]]] = field(default_factory=list)
    may_be_object: bool = True


def _own_summary(node: Mapping[str, Any], resolver: Resolver[Any]) -> _Summary:
    summary = _Summary()
    declared = node.get("type")
    if isinstance(declared, str):
        summary.types = {declared}
    elif isinstance(declared, list):
        summary.types = {str(t) for t in declared}
    if "const" in node:
        summary.enum = {json.dumps(node["const"], sort_keys=True)}
        summary.types = summary.types or {json_type(node["const"])}
    elif isinstance(node.get("enum"), list):
        summary.enum = {json.dumps(v, sort_keys=True) for v in node["enum"]}
        summary.types = summary.types or {json_type(v) for v in node["enum"]}
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        summary.props = {str(k): [(v, resolver)] for k, v in properties.items()}
        if summary.types is None:
            summary.types = {"object"}
    if isinstance(node.get("required"), list):
        summary.required = {str(r) for r in node["required"]}
    items = node.get("items")
    if isinstance(items, Mapping):
        summary.items = [(items, resolver)]
    elif isinstance(items, list):
        summary.items = [(i, resolver) for i in items if isinstance(i, Mapping)]
    if summary.items and summary.types is None:
        summary.types = {"array"}
    summary.may_be_object = summary.types is None or "object" in summary.types
    return summary


def _all_of(parts: Sequence[_Summary]) -> _Summary:
    """Every part applies: types and enums intersect, required and properties accumulate."""
    out = _Summary()
    typed = [p.types for p in parts if p.types is not None]
    if typed:
        common = set.intersection(*typed)
        out.types = common or set.union(*typed)
    enums = [p.enum for p in parts if p.enum is not None]
    if enums:
        out.enum = set.intersection(*enums) or set.union(*enums)
    for part in parts:
        out.required |= part.required
        for key, defs in part.props.items():
            out.props.setdefault(key, []).extend(defs)
        out.items.extend(part.items)
    out.may_be_object = all(p.may_be_object for p in parts)
    return out


def _any_of(parts: Sequence[_Summary]) -> _Summary:
    """One part applies: types and enums unite; required only what every object branch requires."""
    out = _Summary()
    if parts and all(p.types is not None for p in parts):
        out.types = set.union(*(p.types or set() for p in parts))
    if parts and all(p.enum is not None for p in parts):
        out.enum = set.union(*(p.enum or set() for p in parts))
    object_parts = [p for p in parts if p.may_be_object and (p.props or p.required)]
    if object_parts:
        out.required = set.intersection(*(p.required for p in object_parts))
    for part in parts:
        for key, defs in part.props.items():
            out.props.setdefault(key, []).extend(defs)
        out.items.extend(part.items)
    out.may_be_object = any(p.may_be_object for p in parts)
    return out


def _summarize(
    node: Any,
    resolver: Resolver[Any],
    seen_refs: frozenset[int] = frozenset(),
    entered: bool = False,
    unresolved: set[str] | None = None,
) -> _Summary:
    """Fold `$ref`s and combinators of one node into a summary (a `$ref` loop is followed once).

    `entered` says the resolver already stands at this node's base URI (a `$ref` lookup lands
    there); otherwise a node's own `$id` moves the base before its `$ref`s are resolved. A `$ref`
    that cannot be resolved adds nothing and is recorded in `unresolved`.
    """
    if not isinstance(node, Mapping):
        return _Summary()
    if not entered and isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(Resource.from_contents(node, default_specification=DRAFT202012))
    parts = [_own_summary(node, resolver)]
    ref = node.get("$ref")
    if isinstance(ref, str):
        try:
            resolved = resolver.lookup(ref)
        except Unresolvable:
            resolved = None
            if unresolved is not None:
                unresolved.add(ref)
        if resolved is not None and id(resolved.contents) not in seen_refs:
            parts.append(_summarize(resolved.contents, resolved.resolver, seen_refs | {id(resolved.contents)},
                                    entered=True, unresolved=unresolved))
    for keyword in ("allOf", "anyOf", "oneOf"):
        branches = node.get(keyword)
        if not isinstance(branches, list):
            continue
        summaries = [_summarize(b, resolver, seen_refs, unresolved=unresolved) for b in branches]
        parts.append(_all_of(summaries) if keyword == "allOf" else _any_of(summaries))
    return _all_of(parts) if len(parts) > 1 else parts[0]


class SchemaShaper:
    """Turns JSON Schemas into shapes, remembering the shape of every shared sub-schema.

    Webhook schemas reuse the same components (user, repository) hundreds of times; caching the
    summary of each schema node and the shape below it makes a 200-type catalog linear instead
    of exponential. A cached shape depends only on its node, so results do not depend on the
    order types are shaped in; only subtrees cut short (a recursive schema meeting itself, or
    MAX_DEPTH) depend on where they sit, and those are never cached. Cache keys are object ids,
    so the caches keep each node alive for as long as the shaper lives.
    """

    def __init__(self) -> None:
        self._summaries: dict[int, tuple[Any, _Summary]] = {}
        self.unresolved: set[str] = set()  # `$ref`s that could not be followed (they add no fields)
        self._subtrees: dict[tuple[int, ...], tuple[list[Any], dict[str, tuple[Any, ...]]]] = {}

    def shape(self, schema: Mapping[str, Any], resolver: Resolver[Any] | None = None) -> Shape:
        if resolver is None:
            resolver = Registry().resolver_with_root(Resource.from_contents(schema, default_specification=DRAFT202012))
        subtree, _ = self._subtree([(schema, resolver)], frozenset(), 0)
        return {
            path: FieldShape(path=path, types=types, required=required, enum=enum)
            for path, (types, required, enum) in subtree.items()
            if path
        }

    def _summary(self, node: Any, resolver: Resolver[Any]) -> _Summary:
        cached = self._summaries.get(id(node))
        if cached is None:
            cached = self._summaries[id(node)] = (node, _summarize(node, resolver, unresolved=self.unresolved))
        return cached[1]

    def _subtree(
        self, defs: list[tuple[Any, Resolver[Any]]], ancestors: frozenset[tuple[int, ...]], depth: int
    ) -> tuple[dict[str, tuple[Any, ...]], bool]:
        """Relative path -> (types, required, enum) below the node made of `defs`, and whether it
        was cut short (a recursive schema meeting itself, or MAX_DEPTH)."""
        ids = tuple(id(node) for node, _ in defs)
        cached = self._subtrees.get(ids)
        if cached is not None:
            return cached[1], False
        summaries = [self._summary(node, res) for node, res in defs]
        summary = _all_of(summaries) if len(summaries) != 1 else summaries[0]
        out: dict[str, tuple[Any, ...]] = {
            "": (
                frozenset(summary.types) if summary.types is not None else None,
                None,
                frozenset(summary.enum) if summary.enum is not None else None,
            )
        }
        children = [(key, child_defs, key in summary.required) for key, child_defs in summary.props.items()]
        if summary.items:
            children.append(("[]", summary.items, None))
        cut = bool(children) and depth >= MAX_DEPTH
        if not cut:
            inner = ancestors | {ids}
            for name, child_defs, required in children:
                child_ids = tuple(id(node) for node, _ in child_defs)
                if child_ids in inner:  # a recursive schema: stop at the repeat
                    cut = True
                    continue
                sub, sub_cut = self._subtree(child_defs, inner, depth + 1)
                cut = cut or sub_cut
                for rel, (types, req, enum) in sub.items():
                    if rel == "":
                        out[name] = (types, required, enum)
                    elif rel.startswith("[]"):
                        out[name + rel] = (types, req, enum)
                    else:
                        out[f"{name}.{rel}"] = (types, req, enum)
        if not cut:
            self._subtrees[ids] = ([node for node, _ in defs], out)
        return out, cut


def shape_of_schema(schema: Mapping[str, Any], resolver: Resolver[Any] | None = None) -> Shape:
    """The shape a JSON Schema promises, with `$ref`s resolved (cycles and depth are cut off)."""
    return SchemaShaper().shape(schema, resolver)


# --- comparing shapes -----------------------------------------------------------------------------


def _covered(t: str, types: frozenset[str]) -> bool:
    return t in types or (t == "integer" and "number" in types)


def _fmt_types(types: Iterable[str]) -> str:
    return " or ".join(sorted(types)) or "unknown"


def _names_related(a: str, b: str) -> bool:
    """`amount` ~ `amount_cents`, `userName` ~ `user_name`, `adress` ~ `address`; not two different
    fields that merely share a prefix (`organization_pre_receive_hooks` vs `organization_packages`)."""
    na = leaf_name(a).replace("_", "").replace("-", "").lower()
    nb = leaf_name(b).replace("_", "").replace("-", "").lower()
    if na == nb or (min(len(na), len(nb)) >= 3 and (na in nb or nb in na)):
        return True
    return difflib.SequenceMatcher(None, na, nb).ratio() >= RENAME_SIMILARITY


def _children(shape: Shape, path: str) -> set[str]:
    return {leaf_name(p) for p in shape if parent_of(p) == path}


def _looks_renamed(old: Shape, new: Shape, removed: str, added: str) -> bool:
    """Same parent, same types, a similar name, and the same content (values or child fields)."""
    a, b = old[removed], new[added]
    if parent_of(removed) != parent_of(added) or a.types != b.types or not _names_related(removed, added):
        return False
    kids_a, kids_b = _children(old, removed), _children(new, added)
    if kids_a or kids_b:
        return len(kids_a & kids_b) * 2 >= max(len(kids_a), len(kids_b))
    if a.values or b.values:
        return bool(a.values & b.values)
    return True


def _never_filled(shape: Shape, path: str) -> bool:
    """True when samples held `path` but only as null or an empty array/object (no children seen)."""
    if not path or path not in shape:
        return False
    return not any(parent_of(p) == path for p in shape)


def _unknown_below(shape: Shape, path: str) -> bool:
    """True when the nearest ancestor of `path` that `shape` knows was never filled in its samples."""
    ancestor = parent_of(path)
    while ancestor and ancestor not in shape:
        ancestor = parent_of(ancestor)
    return bool(ancestor) and _never_filled(shape, ancestor)


def _collapse(paths: set[str]) -> dict[str, int]:
    """Keep only the outermost paths, each with how many nested paths it stands for."""
    tops: dict[str, int] = {}
    for path in sorted(paths, key=lambda p: (p.count(".") + p.count("[]"), p)):
        ancestor = next((t for t in tops if _is_under(path, t)), None)
        if ancestor is None:
            tops[path] = 0
        else:
            tops[ancestor] += 1
    return tops


def _nested_note(nested: int) -> str:
    return f", with {nested} nested field{'s' if nested != 1 else ''}" if nested else ""


def diff_shapes(old: Shape, new: Shape, *, from_samples: bool = False) -> list[Change]:
    """Every change from `old` to `new`; breaking changes first, then by field path."""
    changes: list[Change] = []
    removed = set(old) - set(new)
    added = set(new) - set(old)
    if from_samples:  # below a value only ever seen null or empty on the other side, nothing is known
        removed = {p for p in removed if not _unknown_below(new, p)}
        added = {p for p in added if not _unknown_below(old, p)}
    removed_tops = _collapse(removed)
    added_tops = _collapse(added)
    for r in sorted(removed_tops):
        match = next((a for a in sorted(added_tops) if _looks_renamed(old, new, r, a)), None)
        if match is not None:
            changes.append(Change("renamed", r, f"`{r}` appears to be renamed to `{match}`", removed_tops.pop(r)))
            added_tops.pop(match)
    for r, nested in removed_tops.items():
        changes.append(Change("removed", r, f"`{r}` ({_fmt_types(old[r].types or ())}) was removed"
                                            f"{_nested_note(nested)}", nested))
    for a, nested in added_tops.items():
        changes.append(Change("added", a, f"`{a}` ({_fmt_types(new[a].types or ())}) was added{_nested_note(nested)}",
                              nested))
    field_changes: list[Change] = []
    for path in sorted(set(old) & set(new)):
        field_changes.extend(_field_changes(old[path], new[path], from_samples=from_samples))
    retyped = [c.path for c in field_changes if c.kind == "type-changed"]
    if retyped:  # an object that became a string took its fields along: count them, do not list them
        nested = {p: 0 for p in retyped}
        kept = []
        for change in changes:
            owner = next((p for p in retyped if _is_under(change.path, p)), None)
            if owner is None:
                kept.append(change)
            else:
                nested[owner] += 1 + change.nested
        changes = kept
        field_changes = [
            Change(c.kind, c.path, f"{c.detail} (its {nested[c.path]} nested field"
                                    f"{'s are' if nested[c.path] != 1 else ' is'} gone)", nested[c.path])
            if c.kind == "type-changed" and nested.get(c.path) else c
            for c in field_changes
        ]
    changes += field_changes
    return sorted(changes, key=lambda c: (not c.breaking, c.path, c.kind))


def _field_changes(a: FieldShape, b: FieldShape, *, from_samples: bool) -> list[Change]:
    out: list[Change] = []
    path = a.path
    if a.types is not None and b.types is not None:
        old_types, new_types = a.types, b.types
        if from_samples:  # `null` seen in one sample set says nothing about the type
            old_types, new_types = old_types - {"null"}, new_types - {"null"}
        if old_types and new_types:
            gained = {t for t in new_types if not _covered(t, old_types)}
            lost = {t for t in old_types if not _covered(t, new_types)}
            if gained:
                out.append(Change("type-changed", path,
                                  f"`{path}` changed type: {_fmt_types(a.types)} → {_fmt_types(b.types)}"))
            elif lost:
                out.append(Change("type-narrowed", path,
                                  f"`{path}` narrowed: {_fmt_types(a.types)} → {_fmt_types(b.types)}"))
    if a.enum is not None and b.enum is not None and leaf_name(path) not in VERSION_FIELDS:
        for value in sorted(a.enum - b.enum):
            out.append(Change("enum-value-removed", path, f"`{path}` no longer allows {value}"))
        for value in sorted(b.enum - a.enum):
            out.append(Change("enum-value-added", path, f"`{path}` now also allows {value}"))
    if a.required is False and b.required is True:
        out.append(Change("made-required", path, f"`{path}` is now required"))
    elif a.required is True and b.required is False:
        out.append(Change("made-optional", path, f"`{path}` is no longer required: it may now be absent"))
    return out


def diff_schemas(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    old_resolver: Resolver[Any] | None = None,
    new_resolver: Resolver[Any] | None = None,
    old_label: str = "old",
    new_label: str = "new",
) -> ShapeDiff:
    """Diff two JSON Schemas (each with the resolver for its `$ref`s)."""
    changes = diff_shapes(shape_of_schema(old, old_resolver), shape_of_schema(new, new_resolver))
    return ShapeDiff(old_label=old_label, new_label=new_label, changes=tuple(changes))


def diff_samples(
    old: Iterable[Any], new: Iterable[Any], *, old_label: str = "old", new_label: str = "new"
) -> ShapeDiff:
    """Diff two sets of sample payloads of the same event type."""
    changes = diff_shapes(shape_of_samples(old), shape_of_samples(new), from_samples=True)
    return ShapeDiff(old_label=old_label, new_label=new_label, changes=tuple(changes))
