"""`python -m diagnostics ...` runs the command-line interface."""

from diagnostics.cli import main

raise SystemExit(main())
