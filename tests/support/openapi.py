"""The platforms' OpenAPI documents (../shared/data/platform-apis), as validators of fixtures and of
what loopback servers serve (OpenAPI 3.0 semantics: `nullable`, `$ref` into components)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from tests.support.shared import PLATFORM_APIS as APIS


@cache
def description(name: str) -> dict[str, Any]:
    return json.loads((APIS / name).read_text())


def component(doc: str, name: str) -> dict[str, Any]:
    """A schema of the document's components, with the components beside it for its `$ref`s."""
    return {"$ref": f"#/components/schemas/{name}", "components": description(doc)["components"]}


# github/rest-api-description, components/schemas/hook-delivery-item and hook-delivery.
GITHUB_ITEM: dict[str, Any] = {
    "type": "object",
    "required": ["id", "guid", "delivered_at", "redelivery", "duration", "status", "status_code", "event", "action",
                 "installation_id", "repository_id"],
    "properties": {
        "id": {"type": "integer"}, "guid": {"type": "string"}, "delivered_at": {"type": "string"},
        "redelivery": {"type": "boolean"}, "duration": {"type": "number"}, "status": {"type": "string"},
        "status_code": {"type": "integer"}, "event": {"type": "string"},
        "action": {"type": "string", "nullable": True}, "installation_id": {"type": "integer", "nullable": True},
        "repository_id": {"type": "integer", "nullable": True},
        "throttled_at": {"type": "string", "nullable": True}, "url": {"type": "string"},
    },
}
GITHUB_DETAIL: dict[str, Any] = {
    **GITHUB_ITEM,
    "required": [*GITHUB_ITEM["required"], "request", "response"],
    "properties": {
        **GITHUB_ITEM["properties"],
        "request": {"type": "object", "required": ["headers", "payload"],
                    "properties": {"headers": {"type": "object", "nullable": True},
                                   "payload": {"type": "object", "nullable": True}}},
        "response": {"type": "object", "required": ["headers", "payload"],
                     "properties": {"headers": {"type": "object", "nullable": True},
                                    "payload": {"type": "string", "nullable": True}}},
    },
}
