-- A generation refused before anything was held (bad input, not enough credits) is 'rejected'.
ALTER TABLE generations DROP CONSTRAINT generations_status_check;
ALTER TABLE generations ADD CONSTRAINT generations_status_check
    CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled', 'rejected'));

-- An admin action repeated under the same workflow id runs again as a new run: record each run.
ALTER TABLE admin_actions ADD COLUMN run_id text NOT NULL DEFAULT '';
ALTER TABLE admin_actions DROP CONSTRAINT admin_actions_workflow_id_key;
ALTER TABLE admin_actions ADD CONSTRAINT admin_actions_one_per_run UNIQUE (workflow_id, run_id);

-- Stars payments we could not match to one of our orders: reported to the admins once, not every
-- reconciliation run, and kept for them to settle by hand.
CREATE TABLE unmatched_payments (
    telegram_payment_charge_id text PRIMARY KEY,
    user_id     bigint NOT NULL,
    stars       integer NOT NULL,
    payload     text NOT NULL DEFAULT '',
    detail      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE generations DROP CONSTRAINT generations_finished_iff_final;
ALTER TABLE generations ADD CONSTRAINT generations_finished_iff_final
    CHECK ((status IN ('succeeded', 'failed', 'cancelled', 'rejected')) = (finished_at IS NOT NULL));
