#!/bin/sh
# One-shot (temporalio/admin-tools, or any shell with the `temporal` CLI): the namespace Genflow uses and the
# search attributes its workflows upsert. Idempotent: safe on every `docker compose up`.
#   TEMPORAL_ADDRESS     the frontend, e.g. temporal:7233
#   TEMPORAL_NAMESPACE   must equal TEMPORAL_NAMESPACE in .env.production (default: default)
#   TEMPORAL_RETENTION   how long closed workflows stay visible (default 336h = 14 days)
set -eu
: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS, e.g. temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-336h}"

attempt=0
until temporal operator cluster health >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 60 ]; then
        echo "Temporal at $TEMPORAL_ADDRESS is not healthy after 60 attempts" >&2
        exit 1
    fi
    sleep 2
done

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    echo "namespace $NAMESPACE exists"
else
    temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# A new namespace reaches every frontend's cache within seconds: wait until it answers.
attempt=0
until temporal operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 60 ]; then
        echo "namespace $NAMESPACE did not become available" >&2
        exit 1
    fi
    sleep 1
done

# Every custom search attribute GenerationWorkflow sets (genflow/embedded.py SEARCH_ATTRIBUTES).
for name in GenerationStage TelegramUserId KieModel KieTaskId; do
    if temporal operator search-attribute list --namespace "$NAMESPACE" | grep -qw "$name"; then
        echo "search attribute $name exists"
    else
        temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type Keyword
    fi
done
echo "namespace $NAMESPACE is ready"
