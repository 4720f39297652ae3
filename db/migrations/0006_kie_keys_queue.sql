-- KIE accounts (API keys), known by a fingerprint (sha256 prefix), never the key itself. A key KIE
-- refuses (401/402) is disabled here so every worker stops using it at once; the credits check
-- re-enables it when KIE accepts it again.
CREATE TABLE kie_keys (
    key_id          text PRIMARY KEY,
    tasks_per_period integer NOT NULL CHECK (tasks_per_period > 0),
    period_seconds  double precision NOT NULL CHECK (period_seconds > 0),
    disabled_at     timestamptz,
    disabled_reason text,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    seen_at         timestamptz NOT NULL DEFAULT now()
);

-- One row per submit slot taken: KIE's limit is N creates in any sliding window, per account, across
-- every worker replica; rows older than a minute are pruned as slots are taken.
CREATE TABLE kie_key_slots (
    key_id      text NOT NULL REFERENCES kie_keys (key_id),
    taken_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    generation_id text
);
CREATE INDEX kie_key_slots_by_key ON kie_key_slots (key_id, taken_at);

-- The submit queue, for users' and operators' estimates (Temporal's fair dispatch decides the order).
ALTER TABLE generations ADD COLUMN queued_at timestamptz;
ALTER TABLE generations ADD COLUMN queue_weight real NOT NULL DEFAULT 1;
CREATE INDEX generations_queued ON generations (queued_at) WHERE stage = 'queued';
