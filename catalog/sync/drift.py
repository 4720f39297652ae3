"""Schema drift: where the catalog and KIE's documentation (or two versions of the docs) disagree.

A catalog input may differ from the docs on purpose (a default so the form has a toggle, an input made
``system``, a tighter limit); it then says so in its ``doc`` note, with the documented value. Such a
difference is accepted only while the docs still say exactly that value, so a clean report means
"nothing undocumented": every difference is either declared or is drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from catalog.catalog import Catalog
from catalog.specs import InputSpec, ModelSpec
from catalog.sync.snapshots import FACT_KEYS, WHOLE_INPUT, InputFacts, Snapshot, Snapshots

Kind = Literal[
    "model added", "model removed", "input added", "input removed", "input changed", "endpoint changed",
    "override stale", "exclusion stale",
]  # fmt: skip


_OPENAPI_KEY = {own: openapi for openapi, own in FACT_KEYS.items()}


@dataclass(frozen=True)
class Change:
    kind: Kind
    model: str
    detail: str
    input: str | None = None

    def line(self) -> str:
        where = f"{self.model}.{self.input}" if self.input else self.model
        return f"{self.kind:<16} {where}: {self.detail}"


@dataclass
class DriftReport:
    """Every difference found, one ``Change`` each; ``clean`` when there is none."""

    changes: list[Change] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        return [change.line() for change in self.changes]

    def of_kind(self, kind: Kind) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]


def drift(catalog: Catalog, snapshots: Snapshots) -> DriftReport:
    """The catalog against the stored snapshots: documented models neither offered nor excluded, offered
    models no longer documented, and every input that differs from its page without a declared reason."""
    report = DriftReport()
    documented = {entry.model for entry in snapshots.index if entry.model}
    for entry in snapshots.index:
        if entry.model in catalog.models:
            if snapshots.exclusion_for(entry):
                report.changes.append(Change("exclusion stale", entry.model, "excluded, yet in the catalog"))
            continue
        if snapshots.exclusion_for(entry) is None:
            name = entry.model or entry.doc_page
            report.changes.append(
                Change(
                    "model added", name, f"documented at {entry.doc_page}, not in the catalog nor excluded"
                )
            )
    for model_id in sorted(snapshots.excluded_ids - documented):
        report.changes.append(Change("exclusion stale", model_id, "excluded, but no longer documented"))
    for model in catalog.models.values():
        snapshot = snapshots.models.get(model.id)
        if model.id not in documented:
            report.changes.append(Change("model removed", model.id, "in the catalog, no longer documented"))
        elif snapshot is not None:
            report.changes += _model_drift(model, snapshot)
    return report


def compare_snapshots(stored: Snapshots, live: Snapshots) -> DriftReport:
    """Stored snapshots against freshly fetched ones: pages added or gone, and every changed input.
    Facts the stored snapshot took from prose are kept, since a schema cannot confirm them."""
    report = DriftReport()
    stored_pages = {entry.doc_page: entry for entry in stored.index}
    live_pages = {entry.doc_page: entry for entry in live.index}
    for page in live_pages.keys() - stored_pages.keys():
        entry = live_pages[page]
        report.changes.append(Change("model added", entry.model or page, f"new docs page {page}"))
    for page in stored_pages.keys() - live_pages.keys():
        entry = stored_pages[page]
        report.changes.append(Change("model removed", entry.model or page, f"docs page gone: {page}"))
    for model_id, old in stored.models.items():
        new = live.models.get(model_id)
        if new is None:
            if old.doc_page in live_pages:
                report.changes.append(Change("model removed", model_id, f"no longer on {old.doc_page}"))
            continue
        if (old.endpoint, old.api) != (new.endpoint, new.api):
            report.changes.append(
                Change("endpoint changed", model_id, f"{old.api} {old.endpoint} → {new.api} {new.endpoint}")
            )
        report.changes += _facts_drift(model_id, old.inputs, new.inputs, live=True)
    report.changes.sort(key=lambda change: (change.model, change.input or ""))
    return report


def _model_drift(model: ModelSpec, snapshot: Snapshot) -> list[Change]:
    changes: list[Change] = []
    if (model.api, model.endpoint) != (snapshot.api, snapshot.endpoint):
        changes.append(
            Change(
                "endpoint changed",
                model.id,
                f"docs: {snapshot.api} {snapshot.endpoint}, catalog: {model.api} {model.endpoint}",
            )
        )
    catalog_facts = {
        name: _catalog_view(spec, snapshot.inputs.get(name)) for name, spec in model.inputs.items()
    }
    changes += _facts_drift(model.id, catalog_facts, snapshot.inputs, live=False)
    for name, spec in model.inputs.items():
        if spec.doc is None or name not in snapshot.inputs:
            continue
        docs = snapshot.inputs[name]
        for key in spec.doc.documented:
            if _same(getattr(spec, key), docs.fact(_OPENAPI_KEY[key])):
                changes.append(
                    Change("override stale", model.id, f"{key}: the catalog now matches the docs", name)
                )
    return changes


def _catalog_view(spec: InputSpec, documented: InputFacts | None) -> InputFacts:
    """The input as the catalog would have to document it: its own values, except where its ``doc`` note
    declares a deliberate difference; there the value it says the docs give stands in."""
    declared = spec.doc.documented if spec.doc else {}
    values: dict[str, Any] = {}
    for openapi_key, own_key in FACT_KEYS.items():
        values[openapi_key] = declared[own_key] if own_key in declared else getattr(spec, own_key)
    if documented is not None:
        values["from_prose"] = documented.from_prose
    return InputFacts.model_validate(values)


def _facts_drift(
    model_id: str, ours: dict[str, InputFacts], docs: dict[str, InputFacts], *, live: bool
) -> list[Change]:
    """``ours`` (the catalog, or the stored snapshot) against ``docs`` (the snapshot, or the live page).
    Against a live page, facts the stored snapshot took from prose are not compared: no schema shows them."""
    changes = [
        Change(
            "input added", model_id, "documented, not in the catalog" if not live else "new in the docs", name
        )
        for name in docs
        if name not in ours
    ]
    for name, mine in ours.items():
        theirs = docs.get(name)
        if theirs is None:
            if not (live and WHOLE_INPUT in mine.from_prose):
                where = "in the catalog, not in the docs" if not live else "gone from the docs"
                changes.append(Change("input removed", model_id, where, name))
            continue
        skip = set(mine.from_prose) if live else set()
        changes += [
            Change("input changed", model_id, detail, name) for detail in _differences(mine, theirs, skip)
        ]
    return changes


def _differences(ours: InputFacts, docs: InputFacts, skip: Iterable[str]) -> list[str]:
    """One phrase per differing keyword, from our value to the documented one."""
    found = []
    for key in FACT_KEYS:
        if key in skip:
            continue
        a, b = ours.fact(key), docs.fact(key)
        if _same(a, b):
            continue
        if key == "enum" and a and b:
            added = [value for value in b if not any(_same(value, x) for x in a)]
            removed = [value for value in a if not any(_same(value, x) for x in b)]
            parts = [f"values added {added}" if added else "", f"values removed {removed}" if removed else ""]
            found.append(f"enum {', '.join(p for p in parts if p) or 'reordered'}")
        elif key == "required":
            found.append("now required" if b else "no longer required")
        else:
            found.append(f"{key} {_shown(a)} → {_shown(b)}")
    return found


def _same(a: Any, b: Any) -> bool:
    """Equal as KIE would read them: 5 == 5.0, but "5" != 5 and True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) != isinstance(b, str):
        return False
    return bool(a == b)


def _shown(value: Any) -> str:
    return "(none)" if value is None else repr(value)
