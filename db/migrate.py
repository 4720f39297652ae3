"""Versioned SQL migrations: ``db/migrations/NNNN_name.sql``, applied in version order.

All pending migrations run in ONE transaction under a transaction-scoped advisory lock, so parallel
callers (several workers starting at once) queue up: the first applies, the others find nothing to do.
Each applied file is recorded in ``schema_migrations`` with its checksum; editing an applied file is an
error (write a new migration instead).

Operators: ``DATABASE_URL=postgresql://... python -m db.migrate``
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from db.errors import MigrationError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Arbitrary but fixed: every Genflow process must use the same lock id ("genflow" in ASCII).
ADVISORY_LOCK_ID = 0x67656E666C6F77
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_SCHEMA_MIGRATIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lower_snake.sql")
        migrations.append(Migration(match[1], match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration versions in {directory}: {versions}")
    return migrations


async def migrate(dsn: str) -> list[str]:
    """Apply pending migrations; returns the versions applied by this call (empty when up to date)."""
    migrations = load_migrations()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            # Lock first: even CREATE TABLE IF NOT EXISTS fails when two sessions race on it.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_ID)
            await conn.execute(_CREATE_SCHEMA_MIGRATIONS)
            recorded = {
                row["version"]: row["checksum"]
                for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
            }
            # Versions recorded but unknown here come from newer code (rolling deploy): left alone.
            applied: list[str] = []
            for migration in migrations:
                if migration.version in recorded:
                    if recorded[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.version}_{migration.name} changed after it was applied"
                        )
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
                applied.append(migration.version)
            return applied
    finally:
        await conn.close()


def main() -> int:
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    applied = asyncio.run(migrate(dsn))
    print(f"applied: {', '.join(applied)}" if applied else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
