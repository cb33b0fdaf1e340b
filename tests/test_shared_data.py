"""The suite finds the shared data beside the checkout, from any checkout, never by an absolute path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.shared import CHECKOUT, DATA, GITHUB_EXAMPLES, GITHUB_SCHEMAS, PLATFORM_APIS, SHARED

TESTS = Path(__file__).resolve().parent
# A string literal that starts at the file system root and reaches into a `shared` folder.
ABSOLUTE_SHARED = re.compile(r"""["'](?:/[^"'/]+)+/shared(?:/|["'])""")


def test_shared_is_beside_this_checkout() -> None:
    assert TESTS.parent == CHECKOUT and (CHECKOUT / "diagnostics").is_dir()
    assert CHECKOUT.parent / "shared" == SHARED
    assert DATA.parent == SHARED and GITHUB_EXAMPLES.is_relative_to(DATA) and PLATFORM_APIS.is_relative_to(DATA)


@pytest.mark.skipif(not DATA.is_dir(), reason="shared data not present beside the checkout")
def test_the_named_folders_exist() -> None:
    for folder in (GITHUB_EXAMPLES, GITHUB_SCHEMAS, PLATFORM_APIS):
        assert folder.is_dir(), folder


def test_no_test_names_the_shared_folder_by_an_absolute_path() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in TESTS.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if ABSOLUTE_SHARED.search(line)
    ]
    assert not found, f"use tests/support/shared.py instead: {found}"
    assert ABSOLUTE_SHARED.search('X = Path("' + "/work" + '/shared/data/github-webhooks")')  # what it catches
