-- One row per generation workflow (id = workflow id "gen-<user>-<key>"): Temporal forgets closed
-- workflows after retention, this table keeps the history, results and Telegram file ids.
CREATE TABLE generations (
    id                text PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users (id),
    chat_id           bigint NOT NULL,
    model_id          text NOT NULL,
    format            text NOT NULL,
    inputs            jsonb NOT NULL DEFAULT '{}'::jsonb,
    price             integer NOT NULL CHECK (price >= 0),
    free              boolean NOT NULL DEFAULT false,
    stage             text NOT NULL DEFAULT 'created',
    status            text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    kie_task_ids      text[] NOT NULL DEFAULT '{}',
    result            jsonb,        -- files as KIE returned them
    telegram_file_ids jsonb,        -- what Telegram returned on delivery, to re-send without KIE
    error_code        text,
    error_message     text,
    delivery_failed   boolean NOT NULL DEFAULT false,
    delivery_error    text,         -- kept apart from error_*: a delivered-late success is still a success
    status_message_id bigint,
    language          text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CONSTRAINT generations_finished_iff_final
        CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL))
);
CREATE INDEX generations_by_user ON generations (user_id, created_at DESC);
CREATE INDEX generations_in_progress ON generations (user_id) WHERE status IN ('pending', 'running');
