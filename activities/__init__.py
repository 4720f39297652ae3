"""Temporal activities: classes that own their clients (asyncpg pool, KIE session, aiogram Bot)."""
