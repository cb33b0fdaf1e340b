"""The event catalog: which event types exist, their resource, and the JSON Schema of each version.

Two shapes are accepted:

* a YAML or JSON file with `event_types: [{name, description?, resource?, versions?}]`, where
  `versions` maps a version name to `{schema: <inline JSON Schema>}` or
  `{schema_file: <path relative to the catalog>}` (an entry may also be just the name; other
  top-level keys, such as an `x-schemas:` block holding YAML anchors, are ignored);
* a folder of JSON Schemas, one per event type (`invoice.paid.json`, or `issues/opened.schema.json`
  as in octokit's GitHub webhook schemas, where `push/event.schema.json` is the type `push`).
  Files that other schemas `$ref`, or that live in a `common/`, `definitions/` or `shared/`
  folder, are components, not event types.

`$ref`s resolve against local files under the catalog folder only (never the network). Every
schema is checked against its meta-schema and every `$ref` is followed once at load time, so a
broken catalog fails with a message naming the file and the entry instead of failing later in
the middle of a run. Compiled validators are cached per (event type, version).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import yaml
from jsonschema import validators
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:  # referencing does not export its Resolver class
    from referencing._core import Resolver

from diagnostics.documents import load_document
from diagnostics.errors import InputError
from diagnostics.logs.files import read_capped

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a catalog or schema file; read with a cap (devices report no size)

COMPONENT_FOLDERS = frozenset({"common", "definitions", "shared", "components"})
ENTRY_KEYS = ("name", "description", "resource", "versions")
UNVERSIONED = "current"
_SCHEMA_SUFFIXES = (".schema.json", ".json")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$")


def resource_of(event_type: str) -> str:
    """The resource an event type belongs to: the part before the last dot (or the whole name)."""
    return event_type.rsplit(".", 1)[0] if "." in event_type else event_type


def action_of(event_type: str) -> str:
    """The action part of an event type (`invoice.paid` -> `paid`); empty when there is no dot."""
    return event_type.rsplit(".", 1)[1] if "." in event_type else ""


@dataclass(frozen=True)
class EventVersion:
    """One version of an event type's payload and where its schema came from."""

    name: str
    schema: Mapping[str, Any] | None = field(repr=False)
    source: str


@dataclass(frozen=True)
class EventType:
    """A catalogued event type. Versions keep the catalog's order: the last one is the newest."""

    name: str
    resource: str
    description: str = ""
    versions: tuple[EventVersion, ...] = ()

    @property
    def action(self) -> str:
        return action_of(self.name)

    @property
    def version_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.versions)

    @property
    def latest(self) -> EventVersion | None:
        return self.versions[-1] if self.versions else None

    def version(self, name: str | None) -> EventVersion | None:
        """The version a payload claims; an unversioned catalog entry answers for any version."""
        if not self.versions:
            return None
        if name is None or name == "":
            return self.latest
        for version in self.versions:
            if version.name == name:
                return version
        if len(self.versions) == 1 and self.versions[0].name == UNVERSIONED:
            return self.versions[0]
        return None


@dataclass
class Catalog:
    """The loaded catalog: event types by name, plus the schema registry used to resolve `$ref`s."""

    path: Path
    event_types: dict[str, EventType]
    registry: Registry = field(repr=False)
    _validators: dict[tuple[str, str], Validator] = field(default_factory=dict, repr=False)

    def __contains__(self, name: object) -> bool:
        return name in self.event_types

    def __iter__(self) -> Iterator[EventType]:
        return iter(self.event_types.values())

    def __len__(self) -> int:
        return len(self.event_types)

    @property
    def names(self) -> list[str]:
        return sorted(self.event_types)

    def resources(self) -> dict[str, list[EventType]]:
        """Event types grouped by resource, both sorted by name."""
        grouped: dict[str, list[EventType]] = {}
        for name in self.names:
            et = self.event_types[name]
            grouped.setdefault(et.resource, []).append(et)
        return dict(sorted(grouped.items()))

    def validator(self, event_type: str, version: str | None = None) -> Validator | None:
        """A compiled validator for a type's version (cached), or None when there is no schema."""
        et = self.event_types.get(event_type)
        chosen = et.version(version) if et else None
        if chosen is None or chosen.schema is None:
            return None
        key = (event_type, chosen.name)
        if key not in self._validators:
            cls = validators.validator_for(chosen.schema, default=validators.Draft202012Validator)
            self._validators[key] = cls(chosen.schema, registry=self.registry)
        return self._validators[key]

    def resolver(self) -> Resolver[Any]:
        """A `$ref` resolver over the catalog's files, for walking schemas (see schema_diff)."""
        return self.registry.resolver()


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate a catalog file or folder; any problem is an InputError naming file and entry."""
    p = Path(path)
    if not p.exists():
        raise InputError("event catalog not found", file=str(p))
    if p.is_dir():
        return _load_folder(p)
    return _load_file(p)


# --- reading files -------------------------------------------------------------------------------


def _parse_document(path: Path, text: str | None = None) -> Any:
    """Parse JSON or YAML (by extension), turning syntax errors into InputError with line/column."""
    try:
        raw = read_capped(str(path), MAX_DOCUMENT_BYTES, "file").decode("utf-8") if text is None else text
    except FileNotFoundError as exc:
        raise InputError("file not found", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError("file is not UTF-8 text", file=str(path)) from exc
    except IsADirectoryError as exc:
        raise InputError("expected a file, found a folder", file=str(path)) from exc
    return load_document(raw, str(path))


def _local_retriever(root: Path) -> Callable[[str], Resource[Any]]:
    """Resolve relative `$ref` URIs to files under `root`; anything else (http, escapes) is refused."""
    base = root.resolve()
    cache: dict[str, Resource] = {}

    def retrieve(uri: str) -> Resource:
        if uri in cache:
            return cache[uri]
        parts = urlsplit(uri)
        if parts.scheme not in ("", "file") or parts.netloc:
            raise NoSuchResource(ref=uri)
        target = (base / unquote(parts.path)).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            raise NoSuchResource(ref=uri)
        try:
            contents = _parse_document(target)
        except InputError as exc:
            raise NoSuchResource(ref=uri) from exc
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        cache[uri] = resource
        return resource

    return retrieve


def _check_schema(schema: Any, *, file: str, entry: str) -> None:
    if not isinstance(schema, Mapping):
        raise InputError(f"{entry}: a JSON Schema must be an object, got {type(schema).__name__}", file=file)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        raise InputError(f"{entry}: not a valid JSON Schema: {exc.message} (at {where})", file=file) from exc


def _iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for key, value in node.items():
            if key not in ("enum", "const", "examples", "default"):
                yield from _iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_refs(item)


def _check_refs(schema: Mapping[str, Any], registry: Registry, *, file: str, entry: str, seen: set[int]) -> None:
    """Follow every `$ref` reachable from `schema` once, so a dangling reference fails at load time.

    `seen` holds the ids of schema documents already walked; sharing it across entries keeps a
    catalog whose types all point at the same components linear.
    """
    stack = [(schema, registry.resolver_with_root(Resource.from_contents(schema, DRAFT202012)))]
    while stack:
        node, resolver = stack.pop()
        for ref in _iter_refs(node):
            try:
                resolved = resolver.lookup(ref)
            except Unresolvable as exc:
                raise InputError(
                    f"{entry}: $ref {ref!r} cannot be resolved (only local files under the catalog folder are read)",
                    file=file,
                ) from exc
            if id(resolved.contents) not in seen:
                seen.add(id(resolved.contents))
                stack.append((resolved.contents, resolved.resolver))


# --- a catalog file -------------------------------------------------------------------------------


def _entry_lines(path: Path, text: str) -> list[int]:
    """Line number of each `event_types` entry in a YAML file (empty when it cannot be told)."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return []
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "event_types" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _load_file(path: Path) -> Catalog:
    try:
        text = read_capped(str(path), MAX_DOCUMENT_BYTES, "catalog").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("catalog is not UTF-8 text", file=str(path)) from exc
    data = _parse_document(path, text)
    if not isinstance(data, Mapping) or "event_types" not in data:
        raise InputError("a catalog file needs a top-level `event_types:` list", file=str(path), field="event_types")
    entries = data["event_types"]
    if not isinstance(entries, list):
        raise InputError("`event_types` must be a list", file=str(path), field="event_types")
    lines = _entry_lines(path, text)
    root = path.parent
    registry = Registry(retrieve=_local_retriever(root))
    preload: list[tuple[str, Resource]] = []
    event_types: dict[str, EventType] = {}
    first_seen: dict[str, str] = {}
    pending: list[tuple[EventType, str]] = []
    for index, raw in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        label = f"event_types[{index}]"
        et = _parse_entry(raw, label=label, path=path, line=line, root=root, preload=preload)
        where = f"{label} (line {line})" if line else label
        if et.name in event_types:
            raise InputError(
                f"{where}: duplicate event type {et.name!r} (first defined at {first_seen[et.name]})",
                file=str(path),
                line=line,
                field="name",
            )
        event_types[et.name] = et
        first_seen[et.name] = where
        pending.append((et, where))
    registry = registry.with_resources(preload).crawl()
    seen: set[int] = set()
    for et, where in pending:
        for version in et.versions:
            if version.schema is not None:
                _check_refs(version.schema, registry, file=version.source, entry=f"{where} {et.name} {version.name}",
                            seen=seen)
    return Catalog(path=path, event_types=event_types, registry=registry)


def _parse_entry(
    raw: Any, *, label: str, path: Path, line: int | None, root: Path, preload: list[tuple[str, Resource]]
) -> EventType:
    file = str(path)
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise InputError(f"{label}: expected a mapping with at least `name`", file=file, line=line)
    unknown = [k for k in raw if k not in ENTRY_KEYS]
    if unknown:
        raise InputError(
            f"{label}: unknown key {unknown[0]!r} (expected {', '.join(ENTRY_KEYS)})", file=file, line=line,
            field=str(unknown[0]),
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{label}: `name` is missing or empty", file=file, line=line, field="name")
    name = name.strip()
    if not _NAME_PATTERN.match(name):
        raise InputError(f"{label}: event type name {name!r} has unexpected characters", file=file, line=line,
                         field="name")
    entry = f"{label} ({name!r})"
    description = raw.get("description") or ""
    resource = raw.get("resource") or resource_of(name)
    if not isinstance(description, str) or not isinstance(resource, str):
        raise InputError(f"{entry}: `description` and `resource` must be text", file=file, line=line)
    versions_raw = raw.get("versions") or {}
    if not isinstance(versions_raw, Mapping):
        raise InputError(f"{entry}: `versions` must map a version name to {{schema | schema_file}}", file=file,
                         line=line, field="versions")
    versions = []
    for vname, spec in versions_raw.items():
        ventry = f"{entry} version {vname!r}"
        if not isinstance(spec, Mapping) or len({"schema", "schema_file"} & set(spec)) != 1:
            raise InputError(f"{ventry}: give exactly one of `schema` or `schema_file`", file=file, line=line,
                             field="versions")
        if "schema" in spec:
            schema = spec["schema"]
            _check_schema(schema, file=file, entry=ventry)
            versions.append(EventVersion(name=str(vname), schema=schema, source=file))
            continue
        rel = spec["schema_file"]
        if not isinstance(rel, str) or not rel:
            raise InputError(f"{ventry}: `schema_file` must be a path", file=file, line=line, field="schema_file")
        schema_path = (root / rel).resolve()
        if not schema_path.is_relative_to(root.resolve()):
            # Said without reading it: a catalog must not make us show any file on the machine.
            raise InputError(f"{ventry}: schema_file {rel!r} is outside the catalog's folder; schema files "
                             "are read only from the catalog's folder and below", file=file, line=line,
                             field="schema_file")
        if not schema_path.is_file():
            raise InputError(f"{ventry}: schema_file {rel!r} not found", file=file, line=line, field="schema_file")
        schema = _parse_document(schema_path)
        _check_schema(schema, file=str(schema_path), entry=ventry)
        schema = _with_base_id(schema, schema_path, root)
        preload.append((schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012)))
        versions.append(EventVersion(name=str(vname), schema=schema, source=str(schema_path)))
    return EventType(name=name, resource=resource, description=description, versions=tuple(versions))


def _with_base_id(schema: Mapping[str, Any], schema_path: Path, root: Path) -> dict[str, Any]:
    """Give a schema without `$id` its path relative to the catalog, so its relative `$ref`s resolve."""
    copy = dict(schema)
    if not isinstance(copy.get("$id"), str):
        copy["$id"] = schema_path.relative_to(root.resolve()).as_posix()  # confined to root by the caller
    return copy


# --- a folder of schemas --------------------------------------------------------------------------


def _type_name_for(rel: Path) -> str:
    """`issues/opened.schema.json` -> `issues.opened`; `push/event.schema.json` -> `push`."""
    stem = rel.name
    for suffix in _SCHEMA_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parts = [*rel.parent.parts]
    if stem != "event" or not parts:
        parts.append(stem)
    return ".".join(parts)


def _load_folder(root: Path) -> Catalog:
    files = sorted(p for p in root.rglob("*.json") if p.is_file() and p.name != "index.json")
    if not files:
        raise InputError("the catalog folder holds no JSON Schema files (*.json)", file=str(root))
    docs: dict[Path, dict[str, Any]] = {}
    for f in files:
        if not f.resolve().is_relative_to(root.resolve()):  # a link out of the folder: never read it
            raise InputError("this schema file links outside the catalog's folder; schema files are read only "
                             "from the catalog's folder and below", file=str(f))
        doc = _parse_document(f)
        rel = f.relative_to(root)
        if not isinstance(doc, Mapping):
            raise InputError("a JSON Schema file must hold an object", file=str(f))
        docs[rel] = _with_base_id(doc, f.resolve(), root)
    resources: list[tuple[str, Resource]] = []
    referenced: set[str] = set()
    for rel, doc in docs.items():
        resource = Resource.from_contents(doc, default_specification=DRAFT202012)
        resources.append((rel.as_posix(), resource))
        if doc["$id"] != rel.as_posix():
            resources.append((doc["$id"], resource))
        for ref in _iter_refs(doc):
            target = urljoin(doc["$id"], ref).split("#", 1)[0]
            if target:
                referenced.add(target)
    registry = Registry(retrieve=_local_retriever(root)).with_resources(resources).crawl()
    event_types: dict[str, EventType] = {}
    origin: dict[str, Path] = {}
    seen: set[int] = set()
    for rel, doc in docs.items():
        is_component = (
            any(part in COMPONENT_FOLDERS for part in rel.parent.parts)
            or rel.as_posix() in referenced
            or doc["$id"] in referenced
        )
        if is_component:
            continue
        name = _type_name_for(rel)
        if name in event_types:
            raise InputError(
                f"duplicate event type {name!r}: also defined by {origin[name].as_posix()}", file=str(root / rel)
            )
        _check_schema(doc, file=str(root / rel), entry=f"event type {name!r}")
        _check_refs(doc, registry, file=str(root / rel), entry=f"event type {name!r}", seen=seen)
        description = doc.get("description") or doc.get("title") or ""
        event_types[name] = EventType(
            name=name,
            resource=resource_of(name),
            description=str(description),
            versions=(EventVersion(name=UNVERSIONED, schema=doc, source=str(root / rel)),),
        )
        origin[name] = rel
    if not event_types:
        raise InputError("the catalog folder holds only shared components, no event type schemas", file=str(root))
    return Catalog(path=root, event_types=event_types, registry=registry)


# --- a single schema file -------------------------------------------------------------------------


def load_schema_file(path: str | Path) -> tuple[dict[str, Any], Resolver[Any]]:
    """One JSON Schema file (JSON or YAML), checked, with a resolver for its local `$ref`s."""
    p = Path(path)
    if not p.is_file():
        raise InputError("schema file not found", file=str(p))
    root = p.parent.resolve()
    schema = _parse_document(p)
    _check_schema(schema, file=str(p), entry="schema")
    schema = _with_base_id(schema, p.resolve(), root)
    resource = Resource.from_contents(schema, default_specification=DRAFT202012)
    registry = Registry(retrieve=_local_retriever(root)).with_resource(schema["$id"], resource)
    _check_refs(schema, registry, file=str(p), entry="schema", seen=set())
    return schema, registry.resolver()


def looks_like_schema(document: Any) -> bool:
    """A JSON Schema rather than a payload: it names a `$schema`, or is made only of schema keywords."""
    if not isinstance(document, Mapping):
        return False
    if "$schema" in document:
        return True
    keywords = {"type", "properties", "required", "additionalProperties", "items", "allOf", "anyOf", "oneOf",
                "$ref", "$id", "title", "description", "definitions", "$defs", "enum", "const"}
    return isinstance(document.get("properties"), Mapping) and set(document) <= keywords


def read_document(path: str | Path) -> Any:
    """Parse a JSON or YAML file; syntax errors are InputErrors with line and column."""
    return _parse_document(Path(path))
