-- Users, their credit accounts and the append-only ledger.
-- Money is an integer number of credits (bigint); there are no fractions anywhere.

-- A user is their Telegram user id. Nothing personal is stored beyond the interface language.
CREATE TABLE users (
    id            bigint PRIMARY KEY,
    language      text,
    referrer_id   bigint REFERENCES users (id),
    referral_code text UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_not_own_referrer CHECK (referrer_id <> id)
);

-- available = balance - held. The two CHECKs make an overdraft impossible even if a caller is wrong.
CREATE TABLE accounts (
    user_id    bigint PRIMARY KEY REFERENCES users (id),
    balance    bigint NOT NULL DEFAULT 0,
    held       bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_held_not_negative CHECK (held >= 0),
    CONSTRAINT accounts_balance_covers_held CHECK (balance >= held)
);

-- One row per hold key; its state moves open -> charged or open -> released, never both.
CREATE TABLE holds (
    hold_key      text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES accounts (user_id),
    amount        bigint NOT NULL CHECK (amount > 0),
    generation_id text,
    state         text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'charged', 'released')),
    closed_by     text,          -- idempotency key of the charge or release
    created_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    CONSTRAINT holds_closed_iff_not_open
        CHECK ((state = 'open') = (closed_by IS NULL) AND (state = 'open') = (closed_at IS NULL))
);
CREATE INDEX holds_open_by_user ON holds (user_id) WHERE state = 'open';

-- Every movement of money, written in the same transaction as the balance change it explains.
-- Credit kinds (money in): topup, bonus, adjustment, refund. Money out: charge (of a hold), debit.
-- hold / release only move money between available and held.
CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES accounts (user_id),
    kind            text NOT NULL CHECK (kind IN
                        ('topup', 'bonus', 'adjustment', 'refund', 'hold', 'charge', 'release', 'debit')),
    amount          bigint NOT NULL CHECK (amount > 0),
    idempotency_key text NOT NULL UNIQUE,
    hold_key        text REFERENCES holds (hold_key),
    generation_id   text,
    reason          text NOT NULL DEFAULT '',
    metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
    balance_after   bigint NOT NULL,   -- the account right after this entry, so a replay returns
    held_after      bigint NOT NULL,   -- exactly what the first call returned
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_hold_key_iff_hold_kind
        CHECK ((kind IN ('hold', 'charge', 'release')) = (hold_key IS NOT NULL)),
    CONSTRAINT ledger_entries_hold_keyed_by_itself
        CHECK (kind <> 'hold' OR hold_key = idempotency_key)
);
CREATE INDEX ledger_entries_by_user ON ledger_entries (user_id, id DESC);
CREATE INDEX ledger_entries_by_generation ON ledger_entries (generation_id) WHERE generation_id IS NOT NULL;
-- Belt and braces for "exactly one of charge / release per hold", whatever the application does.
CREATE UNIQUE INDEX ledger_entries_one_close_per_hold ON ledger_entries (hold_key)
    WHERE kind IN ('charge', 'release');

-- The ledger is append-only: mistakes are corrected by new entries (adjustment, refund, debit).
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();

-- Telegram Stars payments; the charge id is Telegram's own idempotency key.
CREATE TABLE payments (
    telegram_payment_charge_id text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    stars       integer NOT NULL CHECK (stars > 0),
    credits     bigint NOT NULL CHECK (credits > 0),
    payload     text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'credited' CHECK (status IN ('credited', 'refunded')),
    refunded_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_by_user ON payments (user_id, created_at DESC);

-- Free generations per user and day (the day is chosen by the caller, e.g. in UTC).
CREATE TABLE daily_free_usage (
    user_id bigint NOT NULL REFERENCES users (id),
    day     date NOT NULL,
    used    integer NOT NULL DEFAULT 0 CHECK (used >= 0),
    PRIMARY KEY (user_id, day)
);

-- One row per consume_free key, so consuming and returning an allowance are idempotent.
CREATE TABLE free_usage_claims (
    key         text PRIMARY KEY,
    user_id     bigint NOT NULL,
    day         date NOT NULL,
    granted     boolean NOT NULL,
    returned_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (user_id, day) REFERENCES daily_free_usage (user_id, day),
    CONSTRAINT free_usage_claims_return_only_granted CHECK (granted OR returned_at IS NULL)
);
