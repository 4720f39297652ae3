"""Which way the test support points: tests and benchmarks import ``testkit``; tests never import ``bench``
(benchmark entry points), ``testkit`` imports neither, and no product package imports either of them (the
image would then need test code to run). Read from the source, not by importing it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [
    "activities",
    "billing",
    "bot",
    "catalog",
    "contracts",
    "db",
    "genflow",
    "kie",
    "simulators",
    "webhooks",
    "workflows",
    "worker.py",
    "telegram_worker.py",
]


def modules(*places: str) -> Iterator[Path]:
    for place in places:
        path = ROOT / place
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute names only (relative imports stay inside their package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def offenders(places: list[str], packages: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(*places)
        for name in sorted(imported(path))
        if name.split(".")[0] in packages
    ]


def test_the_scan_sees_imports():
    # A scan that finds nothing proves nothing: these modules do import testkit.
    assert offenders(["tests/fuzz", "bench"], {"testkit"})


def test_no_test_imports_bench():
    assert offenders(["tests"], {"bench"}) == []


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_package_imports_testkit_or_bench(package: str):
    assert offenders([package], {"testkit", "bench", "tests"}) == []


def test_testkit_imports_neither_bench_nor_tests():
    assert offenders(["testkit"], {"bench", "tests"}) == []
