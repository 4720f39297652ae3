-- Money that always adds up: refunds of top-ups, referral bonuses and an audit trail of admin actions.

ALTER TABLE payments ADD COLUMN referral_bonus bigint NOT NULL DEFAULT 0 CHECK (referral_bonus >= 0);
ALTER TABLE payments ADD COLUMN source text NOT NULL DEFAULT 'update' CHECK (source IN ('update', 'reconciliation'));
ALTER TABLE users ADD COLUMN referred_at timestamptz;

-- Every admin action, with who did it, why, and the workflow that carried it out.
CREATE TABLE admin_actions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id text NOT NULL UNIQUE,
    admin_id    bigint NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL,
    reason      text NOT NULL CHECK (length(reason) > 0),
    outcome     text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_by_admin ON admin_actions (admin_id, created_at DESC);
