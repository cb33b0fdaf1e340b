"""Benchmarks time our commands the way an installed tool runs them: with its bytecode compiled.

`pip install` compiles every module of a package, and a checkout run with Python's defaults
writes `__pycache__` on its first run; a machine with PYTHONDONTWRITEBYTECODE set (as CI
sandboxes often have) would instead recompile all of `diagnostics` in every process a benchmark
starts, about 0.1 s that no user pays, while the baselines' own packages (httpx, duckdb) are
installed and compiled. Compiling once, before the first timed process, levels that.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "diagnostics"


def compile_package() -> None:
    """Write the bytecode of every module of `diagnostics` (a no-op for modules already compiled)."""
    compileall.compile_dir(str(PACKAGE), quiet=1)
