-- Telegram delivers each update at least once (a webhook answer lost, a replica killed mid-update, a retry
-- that lands on another replica): the bot claims an update here before handling it and marks it done after,
-- so every replica handles each update once. Rows older than a day are forgotten (Telegram keeps an
-- undelivered update for 24 hours).
CREATE TABLE bot_updates (
    bot_id     bigint NOT NULL,  -- update ids count per bot
    update_id  bigint NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    done_at    timestamptz,
    claims     integer NOT NULL DEFAULT 1,  -- more than 1: a claim expired and another replica took over
    finishes   integer NOT NULL DEFAULT 0,  -- handlers that ran to the end: more than 1 is an update handled twice
    duplicates integer NOT NULL DEFAULT 0,  -- deliveries of an update already handled, answered without handling
    PRIMARY KEY (bot_id, update_id)
);
CREATE INDEX bot_updates_by_claim ON bot_updates (claimed_at);
