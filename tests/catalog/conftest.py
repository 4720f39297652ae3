"""Fixtures for catalog tests: the packaged catalog, and a writable copy of its data for load-error tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from catalog import Catalog, get_catalog
from catalog.loading import default_data_dir


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return get_catalog()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of catalog/data that a test may edit and then load with ``load_catalog(data_copy)``."""
    source = default_data_dir()
    target = tmp_path / "data"
    shutil.copytree(str(source), target)
    return target
