import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from db import MigrationError, migrate
from db.migrate import load_migrations

REPO = Path(__file__).resolve().parents[2]
TABLES = {
    "schema_migrations",
    "bot_updates",
    "users",
    "accounts",
    "ledger_entries",
    "holds",
    "payments",
    "daily_free_usage",
    "free_usage_claims",
    "generations",
    "admin_actions",
    "bot_fsm",
    "bot_requests",
    "kie_keys",
    "kie_key_slots",
    "bot_start_payloads",
    "unmatched_payments",
    "model_rejections",
    "kie_tasks",
}


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return {row["tablename"] for row in rows}


def test_migration_files_are_numbered_in_order() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions)
    assert versions[:2] == ["0001", "0002"]


async def test_migrate_applies_everything_once(empty_database_url: str) -> None:
    all_versions = [m.version for m in load_migrations()]
    assert await migrate(empty_database_url) == all_versions
    assert await migrate(empty_database_url) == []
    assert await _tables(empty_database_url) == TABLES
    conn = await asyncpg.connect(empty_database_url)
    try:
        recorded = [
            r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
        ]
    finally:
        await conn.close()
    assert recorded == all_versions


async def test_ten_parallel_migrations_apply_once_without_error(empty_database_url: str) -> None:
    results = await asyncio.gather(*(migrate(empty_database_url) for _ in range(10)))
    all_versions = [m.version for m in load_migrations()]
    assert sorted(results, key=len) == [[]] * 9 + [all_versions]
    assert await _tables(empty_database_url) == TABLES


async def test_an_edited_applied_migration_is_refused(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001'")
    finally:
        await conn.close()
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(empty_database_url)


def test_migrate_command_line(empty_database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    run = [sys.executable, "-m", "db.migrate"]
    first = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 0001, 0002")
    second = subprocess.run(run, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert (second.returncode, second.stdout.strip()) == (0, "up to date")
