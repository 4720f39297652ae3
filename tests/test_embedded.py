import asyncpg


async def test_postgres_fixture_gives_an_empty_database(empty_database_url: str) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
        assert (await conn.fetchval("select current_database()")).startswith("t_")
    finally:
        await conn.close()
