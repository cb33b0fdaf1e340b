"""Documents a person hands us: parsed, or refused in one line with file, line and column."""

from __future__ import annotations

import time

import pytest

from diagnostics.documents import MAX_DEPTH, MAX_EXPANDED_NODES, load_document, load_json, load_yaml
from diagnostics.errors import InputError


def billion_laughs(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def refused(load, text: str) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as info:
        load(text, "catalog.yaml")
    assert "catalog.yaml" in str(info.value) and "\n" not in str(info.value)
    return info.value


def test_plain_yaml_and_aliases_within_bounds_load() -> None:
    data = load_yaml("base: &b {type: string}\nfields: [*b, *b]\n", "c.yaml")
    assert data == {"base": {"type": "string"}, "fields": [{"type": "string"}, {"type": "string"}]}
    assert load_yaml("", "c.yaml") is None


@pytest.mark.parametrize("shape", ["flow", "block"])
def test_deep_yaml_is_refused_with_its_position_not_a_recursion_error(shape: str) -> None:
    depth = 100_000 if shape == "flow" else 3_000
    text = "[" * depth + "]" * depth if shape == "flow" else "".join(" " * i + "- \n" for i in range(depth))
    started = time.monotonic()
    error = refused(load_yaml, text)
    assert f"more than {MAX_DEPTH} levels" in str(error) and error.line is not None
    assert time.monotonic() - started < 5


def test_nesting_at_the_limit_still_loads() -> None:
    assert load_yaml("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "c.yaml") is not None


def test_a_billion_laughs_is_refused_before_anything_walks_it() -> None:
    started = time.monotonic()
    error = refused(load_yaml, billion_laughs())
    assert f"more than {MAX_EXPANDED_NODES:,} values" in str(error)
    assert time.monotonic() - started < 5
    assert load_yaml(billion_laughs(4), "c.yaml")["d"][0][0][0][0] == "lol"  # 9**4 values: fine


def test_syntax_errors_name_line_and_column() -> None:
    error = refused(load_yaml, "a: 1\nb: [1, 2\n")
    assert error.line is not None and error.column is not None


def test_deep_json_is_one_line() -> None:
    with pytest.raises(InputError, match="levels deep"):
        load_json("[" * 200_000 + "]" * 200_000, "c.json")
    with pytest.raises(InputError, match="invalid JSON") as info:
        load_document('{"a": }', "c.json")
    assert (info.value.line, info.value.column) == (1, 7)


def test_json_deeper_than_the_bound_but_within_the_parser_is_refused_too() -> None:
    """`json` itself parses ~900 levels; the walks after it (schema checks, diffs) must not see them."""
    with pytest.raises(InputError, match="levels deep"):
        load_json('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "c.json")
    assert load_json("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1), "c.json") is not None
