"""Issue 14 on the `probe` command line: bad host names in a sweep, files that never end."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from diagnostics.cli import main
from diagnostics.sandbox import SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox() as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_env_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIAGNOSTICS_ALLOW", raising=False)
    monkeypatch.delenv("DIAGNOSTICS_CONFIG", raising=False)


def test_each_unencodable_host_is_its_own_url_invalid_row(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """The issue's case: one `a..b.test` line ended the whole sweep with no rows."""
    urls = tmp_path / "urls.txt"
    bad = ["http://a..b.test/", "http://" + "a" * 64 + ".test/", "http://.x.test/"]
    urls.write_text("\n".join([bad[0], sandbox.url("healthy"), *bad[1:]]) + "\n")
    out = tmp_path / "sweep.csv"
    code = main(["probe", "--timeout", "1", "--quiet", "--urls-file", str(urls), "--allow", "127.0.0.1",
                 "--format", "csv", "--output", str(out)])
    assert code == 1
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert [r["url"] for r in rows] == [bad[0], sandbox.url("healthy"), *bad[1:]]
    assert [r["codes"] for r in rows if r["url"] in bad] == ["url-invalid"] * 3
    assert next(r for r in rows if r["url"] == sandbox.url("healthy"))["verdict"] != "failing"
