"""Shared fixtures live in tests/fixtures/*, one module per piece of infrastructure."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.ledger",
    "tests.fixtures.temporal",
    "tests.fixtures.system",
]
