"""Where the shared, read-only design docs and real data are: `../shared` beside the checkout.

Found from this file, never by an absolute path, so the suite runs from any checkout (a worktree,
CI) that has the shared folder beside it; tests that need the data skip when it is absent.
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED = CHECKOUT.parent / "shared"
DATA = SHARED / "data"
GITHUB_WEBHOOKS = DATA / "github-webhooks"  # payload-examples/ and payload-schemas/ per GitHub flavour
GITHUB_EXAMPLES = GITHUB_WEBHOOKS / "payload-examples" / "api.github.com"
GITHUB_SCHEMAS = GITHUB_WEBHOOKS / "payload-schemas" / "api.github.com"
PLATFORM_APIS = DATA / "platform-apis"  # the platforms' OpenAPI documents
