#!/bin/sh
# One-shot (temporalio/admin-tools): create or upgrade Temporal's schema in PostgreSQL with temporal-sql-tool.
# Idempotent: setup-schema only records version 0.0 on an empty database, update-schema applies what is
# missing. Run on every `docker compose up`, so upgrading the server image upgrades the schema first.
# The databases themselves are created by deploy/postgres/init.sh (or by you, on a managed PostgreSQL).
set -eu
: "${POSTGRES_PWD:?set POSTGRES_PWD in .env.infra}"
export SQL_PASSWORD="$POSTGRES_PWD"
SCHEMA=/etc/temporal/schema/postgresql/v12

sql() {
    temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS:-postgres}" -p "${DB_PORT:-5432}" \
        -u "${POSTGRES_USER:-temporal}" "$@"
}

sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d "$SCHEMA/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo "Temporal schema is up to date"
