"""One writer for every command's --output: atomic, stdout without a file, one line for a missing folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnostics.cli import main
from diagnostics.cli._common import write_output
from diagnostics.errors import InputError

CATALOG = Path(__file__).resolve().parents[1] / "fixtures" / "coverage" / "catalog.yaml"


def test_write_output_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("the last report")
    write_output("the new report\n", str(target))
    assert target.read_text() == "the new report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_write_output_without_a_file_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_output("to the terminal\n", None)
    assert capsys.readouterr().out == "to the terminal\n"


def test_a_missing_output_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="the output folder does not exist"):
        write_output("x", str(tmp_path / "nowhere" / "report.md"))


@pytest.mark.parametrize(
    "argv",
    [
        ["schemes", "--format", "json"],  # signatures.py's own output
        ["coverage", "--catalog", str(CATALOG), "--format", "json"],  # emit
    ],
)
def test_commands_share_the_writer(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--output", str(tmp_path / "nowhere" / "out.json")]) == 2
    err = capsys.readouterr().err
    assert "the output folder does not exist" in err and len(err.strip().splitlines()) == 1
    target = tmp_path / "out.json"
    assert main([*argv, "--output", str(target)]) in (0, 1)
    assert target.read_text().startswith(("{", "[")) and not (tmp_path / "out.json.tmp").exists()
