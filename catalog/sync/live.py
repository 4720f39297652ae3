"""Reading docs.kie.ai itself: ``llms.txt`` lists the pages, each page's ``.md`` form carries an OpenAPI
YAML block whose request schema is what we snapshot. Needs the network and pyyaml; only
``python -m catalog.sync --live`` uses this module.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from catalog.sync.snapshots import IndexEntry, InputFacts, Snapshot, Snapshots, Source

DOCS = "https://docs.kie.ai"
Fetch = Callable[[str], Awaitable[str]]

_YAML_BLOCK = re.compile(r"```ya?ml\n(.*?)\n```", re.S)
# "- Image    Models > Seedream [Seedream4.5 - Edit](https://docs.kie.ai/market/seedream/4-5-edit.md): ..."
_LLMS_LINE = re.compile(
    r"^- (?:(?P<category>[^\[]*?) )?\[(?P<title>[^\]]+)\]\((?P<url>https?://[^)\s]+?)\.md\)", re.M
)
_MARKET_MODEL_PAGE = re.compile(r"/market/(?!common/|quickstart)[^/]+(/[^/]+)?$")


class PageError(ValueError):
    """A docs page without the request schema we expect."""


def parse_llms(text: str) -> list[IndexEntry]:
    """The English pages listed under "API Docs" in llms.txt (every API, chat models included)."""
    section = text.split("## API Docs", 1)[-1]
    entries = []
    for match in _LLMS_LINE.finditer(section):
        url = match["url"]
        if url.split("://", 1)[1].split("/", 1)[-1].startswith("cn/"):
            continue
        category = re.sub(r"\s+", " ", match["category"] or "").strip()
        entries.append(IndexEntry(title=match["title"].strip(), category=category, doc_page=url))
    return entries


def parse_page(
    markdown: str, endpoint: str | None = None
) -> list[tuple[str | None, str, dict[str, InputFacts]]]:
    """Every POST request schema on a page as (model id or None, endpoint, inputs). Market bodies wrap the
    inputs in ``input`` and name the model in ``model``'s enum; special APIs take the top-level fields."""
    import yaml  # a dev dependency: only the live check reads YAML

    found = []
    for block in _YAML_BLOCK.findall(markdown):
        spec = yaml.safe_load(block) or {}
        components = (spec.get("components") or {}).get("schemas") or {}
        for path, methods in (spec.get("paths") or {}).items():
            post = (methods or {}).get("post")
            if not post or (endpoint is not None and path != endpoint):
                continue
            content = ((post.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
            schema = _resolve(content.get("schema") or {}, components)
            properties = schema.get("properties") or {}
            wrapped = _resolve(properties.get("input") or {}, components)
            if wrapped.get("type") == "object" and "properties" in wrapped and "model" in properties:
                model_field = properties["model"]
                model_id = (model_field.get("enum") or [model_field.get("default")])[0]
                found.append((model_id, path, _inputs(wrapped, components)))
            else:
                found.append((None, path, _inputs(schema, components)))
    if not found:
        raise PageError("no POST request schema found" + (f" for {endpoint}" if endpoint else ""))
    return found


def _inputs(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, InputFacts]:
    required = set(schema.get("required") or [])
    return {
        name.strip(): _facts(_resolve(prop or {}, components), name in required)
        for name, prop in (schema.get("properties") or {}).items()
    }


def _facts(prop: dict[str, Any], required: bool) -> InputFacts:
    kind = prop.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1 style ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    items = None
    if kind == "array":
        item = prop.get("items") or {}
        items = "uri" if item.get("format") == "uri" else item.get("type")
    return InputFacts(
        type=kind,
        required=required,
        enum=prop.get("enum"),
        default=prop.get("default"),
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        minLength=prop.get("minLength"),
        maxLength=prop.get("maxLength"),
        minItems=prop.get("minItems"),
        maxItems=prop.get("maxItems"),
        items=items,
        deprecated=bool(prop.get("deprecated")),
    )


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and merge ``allOf`` parts: apidog pages use both for shared bodies."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _resolve(
            {**components.get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}, components
        )
    if "allOf" in schema:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, components)
            merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
            merged["required"] = [*merged.get("required", []), *part.get("required", [])]
            merged.setdefault("type", part.get("type"))
        return merged
    return schema


def page_url(doc_page: str, base: str = DOCS) -> str:
    """The fetchable ``.md`` form of a docs page, on ``base`` (a local server in tests)."""
    path = doc_page.split("://", 1)[-1].split("/", 1)[-1] if "://" in doc_page else doc_page.lstrip("/")
    return f"{base.rstrip('/')}/{path}.md"


async def live_snapshots(stored: Snapshots, fetch: Fetch, base: str = DOCS) -> tuple[Snapshots, list[str]]:
    """The docs as they are now: llms.txt's page list and a fresh snapshot of every stored one (and of new
    Market pages). Returns the snapshots and the problems met (pages that failed to load or parse)."""
    problems: list[str] = []
    listed = parse_llms(await fetch(f"{base.rstrip('/')}/llms.txt"))
    listed_pages = {entry.doc_page for entry in listed}
    stored_pages = {entry.doc_page for entry in stored.index}
    index = [entry for entry in stored.index if entry.doc_page in listed_pages]
    # New Market pages are new models; other new API pages are mostly status or utility endpoints.
    new_entries = [
        entry
        for entry in listed
        if entry.doc_page not in stored_pages
        and _MARKET_MODEL_PAGE.search(entry.doc_page.split("://", 1)[-1])
    ]

    async def read(
        doc_page: str, endpoint: str | None
    ) -> list[tuple[str | None, str, dict[str, InputFacts]]]:
        try:
            return parse_page(await fetch(page_url(doc_page, base)), endpoint)
        except Exception as error:  # one bad page must not hide the others' drift
            problems.append(f"{doc_page}: {error}")
            return []

    snapshots = [s for s in stored.models.values() if any(e.doc_page == s.doc_page for e in index)]
    results = await asyncio.gather(*(read(s.doc_page, s.endpoint) for s in snapshots))
    models: dict[str, Snapshot] = {}
    for old, found in zip(snapshots, results, strict=True):
        for model_id, _endpoint, inputs in found:
            # Some Market pages give `model` no enum (Grok text-to-video): the endpoint then identifies it.
            if old.api != "market" or model_id in (None, old.model):
                models[old.model] = old.model_copy(update={"inputs": _keep_prose(old, inputs)})
    new_results = await asyncio.gather(*(read(entry.doc_page, None) for entry in new_entries))
    for entry, found in zip(new_entries, new_results, strict=True):
        for model_id, endpoint, inputs in found:
            name = model_id or entry.doc_page
            index.append(entry.model_copy(update={"model": name, "snapshot": snapshot_file(name)}))
            models[name] = Snapshot(
                model=name,
                title=entry.title,
                api="market" if model_id else "unknown",
                endpoint=endpoint,
                status_endpoint="/api/v1/jobs/recordInfo" if model_id else "",
                doc_page=entry.doc_page,
                source=Source(repo="docs.kie.ai", path=page_url(entry.doc_page), commit="live"),
                inputs=inputs,
            )
    return Snapshots(index=index, models=models, excluded=stored.excluded), problems


def _keep_prose(old: Snapshot, inputs: dict[str, InputFacts]) -> dict[str, InputFacts]:
    """Fresh schema facts, with the stored snapshot's prose-only facts (and prose-only inputs) kept."""
    kept: dict[str, InputFacts] = {}
    for name, facts in inputs.items():
        before = old.inputs.get(name)
        if before is not None and before.from_prose:
            prose = {key: before.fact(key) for key in before.from_prose if key != "input"}
            facts = facts.model_copy(update={**prose, "from_prose": before.from_prose})
        kept[name] = facts
    for name, before in old.inputs.items():
        if name not in kept and "input" in before.from_prose:
            kept[name] = before
    return kept


def snapshot_file(model_id: str) -> str:
    """``kling-2.6/text-to-video`` → ``kling_2_6_text_to_video.json``, as the model files are named."""
    return re.sub(r"[^a-z0-9]+", "_", model_id.lower()).strip("_") + ".json"


async def http_fetch_factory() -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    """A fetch over HTTP (aiohttp) and the coroutine that closes it."""
    import aiohttp

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def fetch(url: str) -> str:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.text()

    return fetch, session.close
