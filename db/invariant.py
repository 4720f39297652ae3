"""The money invariant (see ``invariant.sql``): one SQL query, any time, on a live database.

Operators: ``DATABASE_URL=postgresql://... python -m db.invariant`` prints ``ok`` or the violations
(exit status 1).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import asyncpg
from pydantic import BaseModel, ConfigDict

INVARIANT_SQL = Path(__file__).with_name("invariant.sql").read_text(encoding="utf-8")


class Violation(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    balance: int
    held: int
    expected_balance: int  # credits in - charges - debits, from ledger_entries
    expected_held: int  # holds - charges - releases, from ledger_entries
    open_holds: int  # sum of open holds, from holds
    problems: list[str]

    def __str__(self) -> str:
        return (
            f"user {self.user_id}: balance {self.balance} (ledger says {self.expected_balance}), "
            f"held {self.held} (ledger says {self.expected_held}, open holds {self.open_holds}): "
            + "; ".join(self.problems)
        )


async def check_invariant(conn_or_pool: asyncpg.Connection | asyncpg.Pool) -> list[Violation]:
    """Users whose account disagrees with the ledger; empty when the invariant holds."""
    rows = await conn_or_pool.fetch(INVARIANT_SQL)
    return [Violation(**dict(row)) for row in rows]


async def _main(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        # One snapshot for the whole query, even while the bot keeps moving money.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            violations = await check_invariant(conn)
    finally:
        await conn.close()
    if not violations:
        print("ok")
        return 0
    for violation in violations:
        print(violation)
    print(f"{len(violations)} user(s) violate the ledger invariant")
    return 1


def main() -> int:
    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    return asyncio.run(_main(dsn))


if __name__ == "__main__":
    sys.exit(main())
