"""Connectors: pull delivery attempts straight from a platform's API, so no export step is needed.

Every connector goes out through the SSRF guard (`net.guard.guarded_client`), follows the
platform's pagination to the end (or to `max_attempts`), waits out 429 answers as `Retry-After`
says (`retry_after.RetryAfterTransport`), keeps the token in memory only, and writes the pages
in the platform's own list shape, so the file imports with the platform's importer and a pull
that stopped early is flagged by `partial-export`. One module per platform, listed in CONNECTORS.
"""

from __future__ import annotations

from diagnostics.platforms import convoy, github, hookdeck, svix

CONNECTORS = {"svix": svix.pull_to_file, "github": github.pull_to_file, "hookdeck": hookdeck.pull_to_file,
              "convoy": convoy.pull_to_file}

__all__ = ["CONNECTORS"]
