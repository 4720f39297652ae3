"""Keeping the catalog in step with KIE's documentation.

    from catalog.sync import drift, load_snapshots
    report = drift(get_catalog(), load_snapshots())  # DriftReport: .clean, .changes, .lines()

``python -m catalog.sync --check`` prints the same report (exit 1 on drift); ``--live`` compares the stored
snapshots with docs.kie.ai and ``--write`` stores what it found. See catalog/data/README.md.
"""

from catalog.sync.drift import Change, DriftReport, compare_snapshots, drift
from catalog.sync.snapshots import IndexEntry, InputFacts, Snapshot, Snapshots, load_snapshots

__all__ = [
    "Change",
    "DriftReport",
    "IndexEntry",
    "InputFacts",
    "Snapshot",
    "Snapshots",
    "compare_snapshots",
    "drift",
    "load_snapshots",
]
