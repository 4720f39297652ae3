"""Docs pages as docs.kie.ai serves them (``.md`` with an OpenAPI YAML block), rendered from snapshots, so
the live drift check can be tested without the network."""

from __future__ import annotations

from typing import Any

import yaml

from catalog.sync import Snapshot, Snapshots
from catalog.sync.snapshots import WHOLE_INPUT, InputFacts

_KEYWORDS = ("enum", "default", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def _property(facts: InputFacts) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": facts.type, "description": "仅用于测试"}
    for key in _KEYWORDS:
        if key not in facts.from_prose and facts.fact(key) is not None:
            prop[key] = facts.fact(key)
    if facts.items:
        prop["items"] = {"type": "string", "format": "uri"} if facts.items == "uri" else {"type": facts.items}
    if facts.deprecated:
        prop["deprecated"] = True
    return prop


def render_page(snapshot: Snapshot) -> str:
    """The page's schema as apidog exports it: a Market body wraps ``input``, special APIs are flat."""
    inputs = {name: f for name, f in snapshot.inputs.items() if WHOLE_INPUT not in f.from_prose}
    body = {
        "type": "object",
        "properties": {name: _property(facts) for name, facts in inputs.items()},
        "required": [
            name for name, facts in inputs.items() if facts.required and "required" not in facts.from_prose
        ],
    }
    if snapshot.api == "market":
        body = {
            "type": "object",
            "required": ["model"],
            "properties": {
                "model": {"type": "string", "enum": [snapshot.model], "default": snapshot.model},
                "callBackUrl": {"type": "string", "format": "uri"},
                "input": body,
            },
        }
    spec = {
        "openapi": "3.0.1",
        "paths": {
            snapshot.endpoint: {
                "post": {
                    "summary": snapshot.title,
                    "requestBody": {"content": {"application/json": {"schema": body}}},
                    "responses": {"200": {"$ref": "#/components/schemas/ApiResponse"}},
                }
            }
        },
        "components": {"schemas": {"ApiResponse": {"type": "object"}}},
    }
    text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    return f"# {snapshot.title}\n\n## OpenAPI Specification\n\n```yaml\n{text}```\n"


def render_llms(snapshots: Snapshots, extra: list[tuple[str, str]] = ()) -> str:
    """llms.txt listing every page of the index (and ``extra`` (title, page) pairs), English and Chinese."""
    lines = ["# docs.kie.ai", "", "## Docs", "- [Market](https://docs.kie.ai/market/quickstart.md): ", "",
             "## API Docs"]  # fmt: skip
    for entry in snapshots.index:
        lines.append(f"- {entry.category} [{entry.title}]({entry.doc_page}.md): about")
        lines.append(
            f"- {entry.category} [{entry.title}]({entry.doc_page.replace('.ai/', '.ai/cn/')}.md): 中文"
        )
    for title, page in extra:
        lines.append(f"- Image    Models > New [{title}]({page}.md): a new model")
    lines.append("- [Get Task Details](https://docs.kie.ai/market/common/get-task-detail.md): status")
    return "\n".join(lines) + "\n"
