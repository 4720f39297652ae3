-- The bot's own state: conversation state (aiogram FSM) shared by every bot replica and kept across restarts,
-- the confirmations already turned into generations, and the /start payload of a user's first contact.

-- One row per aiogram StorageKey (absent parts stored as 0 / ''); state and data as aiogram sees them.
CREATE TABLE bot_fsm (
    bot_id                 bigint NOT NULL,
    chat_id                bigint NOT NULL,
    user_id                bigint NOT NULL,
    thread_id              bigint NOT NULL DEFAULT 0,
    business_connection_id text NOT NULL DEFAULT '',
    destiny                text NOT NULL DEFAULT 'default',
    state                  text,
    data                   jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, chat_id, user_id, thread_id, business_connection_id, destiny)
);

-- A confirmation card's request key, claimed by the first tap on its Generate button: a double tap or a
-- re-delivered update (on any replica) finds the claim and neither sends a second status message nor
-- starts anything new. The workflow id derives from the same key, so Temporal de-duplicates as well.
CREATE TABLE bot_requests (
    user_id           bigint NOT NULL,
    request_key       text NOT NULL,
    generation_id     text NOT NULL,
    request           jsonb NOT NULL,   -- the GenerationRequest, to re-attach after a crash mid-start
    status_message_id bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, request_key)
);

-- The raw /start payload (deep link) a user first came with, e.g. "ref_<code>" for referrals.
CREATE TABLE bot_start_payloads (
    user_id    bigint PRIMARY KEY,
    payload    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
