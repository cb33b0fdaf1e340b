"""Every finding code the source can emit has a playbook, and every playbook has a producer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.playbooks import PLAYBOOK_DIR, SECTIONS, load_playbooks, parse_playbook

SOURCE_DIR = Path(__file__).resolve().parent.parent / "diagnostics"


def emitted_codes() -> dict[str, str]:
    """Codes passed as a literal `code="..."` keyword anywhere in the package, with where."""
    codes: dict[str, str] = {}
    for path in SOURCE_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "code"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                codes.setdefault(node.value.value, f"{path.relative_to(SOURCE_DIR.parent)}:{node.lineno}")
    return codes


def test_every_emitted_code_has_a_playbook() -> None:
    playbooks = load_playbooks()
    missing = {code: where for code, where in emitted_codes().items() if code not in playbooks}
    assert not missing, f"codes without playbooks/<code>.md: {missing}"


def test_every_playbook_has_a_producer() -> None:
    orphans = set(load_playbooks()) - set(emitted_codes())
    assert not orphans, f"playbooks whose code nothing emits: {sorted(orphans)}"


def test_every_playbook_parses_with_all_sections() -> None:
    for code, playbook in load_playbooks().items():
        assert playbook.code == code
        assert list(playbook.sections) == list(SECTIONS)


def test_malformed_playbook_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "some-code.md"
    bad.write_text("---\ncode: some-code\ntitle: T\nseverity: high\n---\n## What it means\nx\n")
    with pytest.raises(InputError) as info:
        parse_playbook(bad)
    assert "some-code.md" in str(info.value) and "audience" in str(info.value)


def test_missing_sections_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "other.md"
    bad.write_text("---\ncode: other\ntitle: T\nseverity: low\naudience: customer\n---\n## What it means\nx\n")
    with pytest.raises(InputError, match="Likely causes"):
        parse_playbook(bad)


def test_playbook_dir_is_the_repository_folder() -> None:
    assert PLAYBOOK_DIR.name == "playbooks" and PLAYBOOK_DIR.is_dir()
