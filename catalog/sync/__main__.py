"""``python -m catalog.sync``: the drift check, against the stored snapshots or (``--live``) docs.kie.ai.

python -m catalog.sync --check                 catalog vs stored snapshots; exit 1 on drift
python -m catalog.sync --live [--write]        stored snapshots vs the live docs; --write stores them
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from catalog.loading import load_catalog
from catalog.sync.drift import DriftReport, compare_snapshots, drift
from catalog.sync.live import DOCS, Fetch, http_fetch_factory, live_snapshots
from catalog.sync.snapshots import Snapshots, dump_index, dump_snapshot, load_snapshots, snapshot_dir


def main(argv: list[str] | None = None, *, fetch: Fetch | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.sync", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="catalog vs stored snapshots (the default)")
    parser.add_argument("--live", action="store_true", help="stored snapshots vs docs.kie.ai (network)")
    parser.add_argument("--write", action="store_true", help="with --live: store the fetched snapshots")
    parser.add_argument("--data", type=Path, default=None, help="catalog data folder (default: packaged)")
    parser.add_argument("--docs-base", default=DOCS, help="where the docs live (a local copy in tests)")
    args = parser.parse_args(argv)
    if args.write and not args.live:
        parser.error("--write needs --live")

    stored = load_snapshots(args.data)
    if not args.live:
        report = drift(load_catalog(args.data), stored)
        return _print(report, "catalog vs stored snapshots", len(stored.index))
    try:
        live, problems = asyncio.run(_live(stored, args.docs_base, fetch))
    except Exception as error:  # llms.txt itself unreachable: nothing to compare
        print(f"could not read {args.docs_base}/llms.txt: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"could not read {problem}", file=sys.stderr)
    report = compare_snapshots(stored, live)
    status = _print(report, f"stored snapshots vs {args.docs_base}", len(live.index))
    if args.write and not report.clean:
        _write(live, snapshot_dir(args.data))
        print("snapshots written: run `python -m catalog.sync --check` to see what the catalog must follow")
    return 1 if problems else status


async def _live(stored: Snapshots, base: str, fetch: Fetch | None) -> tuple[Snapshots, list[str]]:
    if fetch is not None:
        return await live_snapshots(stored, fetch, base)
    http, close = await http_fetch_factory()
    try:
        return await live_snapshots(stored, http, base)
    finally:
        await close()


def _print(report: DriftReport, what: str, documented: int) -> int:
    for line in report.lines():
        print(line)
    if report.clean:
        print(f"clean: {what} ({documented} documented models)")
        return 0
    print(f"{len(report.changes)} difference(s): {what}")
    return 1


def _write(live: Snapshots, folder: Path) -> None:
    for entry in live.index:
        if entry.snapshot and entry.model in live.models:
            (folder / entry.snapshot).write_text(dump_snapshot(live.models[entry.model]), encoding="utf-8")
    (folder / "index.json").write_text(dump_index(live.index), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
