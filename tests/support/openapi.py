"""The platforms' OpenAPI documents (../shared/data/platform-apis), as validators of fixtures and of
what loopback servers serve (OpenAPI 3.0 semantics: `nullable`, `$ref` into components)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

APIS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "platform-apis"


@cache
def description(name: str) -> dict[str, Any]:
    return json.loads((APIS / name).read_text())


def component(doc: str, name: str) -> dict[str, Any]:
    """A schema of the document's components, with the components beside it for its `$ref`s."""
    return {"$ref": f"#/components/schemas/{name}", "components": description(doc)["components"]}
