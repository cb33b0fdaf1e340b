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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "--urls-file", "/dev/zero"], "URLs file is larger than"),
        (["probe", "https://hooks.example.com/in", "--ca-file", "/dev/zero"], "CA file is larger than"),
        (["verify", "--body-file", "/dev/zero", "--header", "webhook-id: m", "--secret", "s"],
         "body file is larger than"),
        (["sign", "--scheme", "github", "--secret", "s", "--body-file", "/dev/zero"], "body file is larger than"),
        (["analyze", "/dev/zero"], "not a regular file"),
        (["coverage", "--catalog", "/dev/zero"], "catalog is larger than"),
        (["payload-diff", "/dev/zero", "/dev/zero"], "larger than"),
    ],
)
def test_endless_files_end_in_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's case: /dev/zero reports size 0 and was read until MemoryError at 2.4 GB."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "/dev/zero" in err and err.count("\n") == 1


def test_a_ca_file_that_is_not_pem_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_bytes(b"\xff\xfe not pem")
    assert main(["probe", "https://hooks.example.com/in", "--ca-file", str(bad)]) == 2
    assert "not a PEM certificate" in capsys.readouterr().err

