"""The lines of a chaos or fuzz report: one :class:`Check` per property, printed as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Check:
    """One line of a chaos or fuzz report."""

    name: str
    status: str  # PASS, FAIL or SKIPPED
    detail: str


def passed_if(name: str, ok: bool, detail: str) -> Check:
    return Check(name, "PASS" if ok else "FAIL", detail)


def failed(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "FAIL"]


def print_checks(title: str, checks: list[Check]) -> None:
    print_table(title, ["check", "result", "detail"], [[c.name, c.status, c.detail] for c in checks])


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(f"\n{title}", flush=True)
    print(line)
    for index, row in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if index == 0:
            print(line)
    print(line, flush=True)
