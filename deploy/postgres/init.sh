#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (/docker-entrypoint-initdb.d): a role and a
# database for Genflow, a role for Temporal with its two databases. Passwords come from .env.infra.
# On an existing volume this does nothing: change passwords with ALTER ROLE (docs/deploy.md, "Secrets").
set -eu
: "${GENFLOW_DB_PASSWORD:?set GENFLOW_DB_PASSWORD in .env.infra}"
: "${POSTGRES_PWD:?set POSTGRES_PWD (the temporal role's password) in .env.infra}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v genflow_password="$GENFLOW_DB_PASSWORD" -v temporal_password="$POSTGRES_PWD" <<'SQL'
CREATE ROLE genflow LOGIN PASSWORD :'genflow_password';
CREATE DATABASE genflow OWNER genflow;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
