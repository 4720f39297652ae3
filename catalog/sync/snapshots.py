"""Stored snapshots of KIE's documentation: what each page says about a model's inputs, as facts.

``catalog/data/snapshots/<stem>.json`` holds one documented model (or special-API endpoint) each;
``index.json`` lists every documented model, including the ones the catalog leaves out, and
``catalog/data/excluded.toml`` says which are left out and why. Snapshots use OpenAPI's names
(``minLength``, ``maxItems``); ``from_prose`` names facts a page gives only in its prose (no schema keyword),
which a live fetch of the schema cannot confirm and therefore keeps.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.loading import DataDir, default_data_dir

# OpenAPI keyword → InputSpec field, for the facts the drift check compares.
FACT_KEYS = {
    "type": "type",
    "required": "required",
    "enum": "enum",
    "default": "default",
    "minimum": "minimum",
    "maximum": "maximum",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_items",
    "maxItems": "max_items",
    "items": "items",
    "deprecated": "deprecated",
}
WHOLE_INPUT = "input"  # in `from_prose`: the input itself appears only in prose (4o's nVariants)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputFacts(_Frozen):
    """One documented input: its schema keywords (None: the page gives none)."""

    type: str | None = None
    required: bool = False
    enum: list[Any] | None = None
    default: Any = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    minLength: int | None = None  # OpenAPI's names, as on the page
    maxLength: int | None = None
    minItems: int | None = None
    maxItems: int | None = None
    items: str | None = None  # "uri" (string items with format uri), "string", "object", "integer"...
    deprecated: bool = False
    from_prose: list[str] = []

    def fact(self, key: str) -> Any:
        """The value of an OpenAPI keyword; False/None both mean "not stated" for the flags."""
        return getattr(self, key)


class Source(_Frozen):
    repo: str
    path: str
    commit: str


class Snapshot(_Frozen):
    """What one docs page says about one model or endpoint."""

    model: str  # the `model` value sent (Market) or the catalog's label for a special-API endpoint
    title: str
    api: str
    endpoint: str
    status_endpoint: str
    doc_page: str
    source: Source
    inputs: dict[str, InputFacts]
    notes: list[str] = []


class IndexEntry(_Frozen):
    """A documented model. ``snapshot`` is None for pages not captured (chat models the bot does not sell)."""

    model: str | None = None
    title: str
    category: str
    doc_page: str
    snapshot: str | None = None

    @model_validator(mode="after")
    def _named(self) -> IndexEntry:
        if self.snapshot and not self.model:
            raise ValueError("an entry with a snapshot needs its model")
        return self


class Exclusion(_Frozen):
    """Documented models the catalog deliberately leaves out, by model id or docs page, with the reason."""

    models: list[str] = []
    pages: list[str] = []
    reason: str = Field(min_length=3)


class Snapshots(_Frozen):
    index: list[IndexEntry]
    models: dict[str, Snapshot]  # by model id
    excluded: list[Exclusion] = []

    def exclusion_for(self, entry: IndexEntry) -> Exclusion | None:
        for exclusion in self.excluded:
            if entry.model in exclusion.models or entry.doc_page in exclusion.pages:
                return exclusion
        return None

    @property
    def excluded_ids(self) -> set[str]:
        return {model for exclusion in self.excluded for model in exclusion.models}


def snapshot_dir(data_dir: DataDir | None = None) -> Path:
    root = data_dir if data_dir is not None else default_data_dir()
    return Path(str(root)) / "snapshots"


def load_snapshots(data_dir: DataDir | None = None) -> Snapshots:
    """The stored snapshots, their index and the exclusions (``data_dir`` default: the packaged data)."""
    root = Path(str(data_dir if data_dir is not None else default_data_dir()))
    folder = root / "snapshots"
    index = [IndexEntry.model_validate(raw) for raw in json.loads((folder / "index.json").read_text("utf-8"))]
    models: dict[str, Snapshot] = {}
    for entry in index:
        if entry.snapshot:
            snapshot = Snapshot.model_validate_json((folder / entry.snapshot).read_text("utf-8"))
            if snapshot.model != entry.model:
                raise ValueError(
                    f"snapshots/{entry.snapshot}: model {snapshot.model!r}, index says {entry.model!r}"
                )
            models[snapshot.model] = snapshot
    excluded_path = root / "excluded.toml"
    excluded = (
        [
            Exclusion.model_validate(raw)
            for raw in tomllib.loads(excluded_path.read_text("utf-8")).get("excluded", [])
        ]
        if excluded_path.exists()
        else []
    )
    return Snapshots(index=index, models=models, excluded=excluded)


def dump_snapshot(snapshot: Snapshot) -> str:
    """A snapshot as stored: one line per input, so a docs change is a one-line diff."""
    data = snapshot.model_dump(mode="json")
    lines = ["{"]
    for key, value in data.items():
        if key == "inputs":
            rows = [f"    {json.dumps(name)}: {_compact(facts)}" for name, facts in value.items()]
            lines.append('  "inputs": {' + ("\n" + ",\n".join(rows) + "\n  }," if rows else "},"))
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join([*lines, "}"]) + "\n"


def dump_index(index: list[IndexEntry]) -> str:
    rows = [json.dumps(entry.model_dump(mode="json"), ensure_ascii=False) for entry in index]
    return "[\n" + ",\n".join(f"  {row}" for row in rows) + "\n]\n"


def _compact(facts: dict[str, Any]) -> str:
    """Only what the page states: no None, no False flags, no empty prose list."""
    kept = {
        key: value
        for key, value in facts.items()
        if value is not None and not (key in ("deprecated", "from_prose") and not value)
    }
    kept.setdefault("required", False)
    return json.dumps(kept, ensure_ascii=False)
