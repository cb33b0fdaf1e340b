"""Reading the YAML and JSON documents a person hands us (catalogs, subscriptions, schemas).

A document is parsed into plain data or refused in one line with its line and column: syntax
errors, nesting deep enough to exhaust Python's stack (PyYAML and `json` both end in
RecursionError), and YAML aliases that expand past a bound (a "billion laughs" document of a few
hundred bytes stands for hundreds of millions of nodes; loading keeps the references, but every
walk over the data afterwards, from JSON Schema to the report, would expand them).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from diagnostics.errors import InputError

MAX_DEPTH = 200  # far beyond any real catalog, far below the interpreter's stack
MAX_EXPANDED_NODES = 1_000_000  # nodes the document stands for once its aliases are followed
TOO_DEEP = f"the document is nested more than {MAX_DEPTH} levels deep"


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting past MAX_DEPTH while composing (before any recursion limit)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(TOO_DEEP, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many nodes `node` stands for with aliases followed; shared nodes are counted once per use
    but computed once (memo), so the walk costs the document's size, not its expansion."""
    known = memo.get(id(node))
    if known is not None:
        return known
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = min(size, MAX_EXPANDED_NODES + 1)
    return memo[id(node)]


def load_yaml(text: str, file: str) -> Any:
    """Plain data from YAML text, or one InputError naming the file, line and column."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_NODES:
            raise InputError(
                f"the YAML's aliases expand to more than {MAX_EXPANDED_NODES:,} values (a document that "
                "refers to itself over and over); write the values out or use fewer aliases",
                file=file, line=node.start_mark.line + 1,
            )
        return loader.construct_document(node)
    except _Refused as exc:
        raise InputError(exc.message, file=file, line=exc.mark.line + 1, column=exc.mark.column + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        context = ""
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            context = f" ({exc.context} started at line {exc.context_mark.line + 1}, " \
                      f"column {exc.context_mark.column + 1})"
        raise InputError(f"invalid YAML: {exc.problem or exc}{context}", file=file,
                         line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=file) from exc
    finally:
        loader.dispose()


def load_json(text: str, file: str) -> Any:
    """Plain data from JSON text, or one InputError naming the file, line and column."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno) from exc
    except RecursionError:
        raise InputError(TOO_DEEP, file=file) from None
    if _deeper_than(data, MAX_DEPTH):  # `json` stops near 1,000 levels; every later walk recurses too
        raise InputError(TOO_DEEP, file=file)
    return data


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether containers nest past `limit`, found without recursion (the walk must not be what fails)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def load_document(text: str, file: str) -> Any:
    """YAML for `.yaml`/`.yml` names, JSON otherwise."""
    return load_yaml(text, file) if file.lower().endswith((".yaml", ".yml")) else load_json(text, file)
