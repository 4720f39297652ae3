-- Every KIE task a generation created, with the KIE account (key fingerprint) that made it: a follow-up on
-- a task (Veo 1080p/4K, extends) must go to the same account, which alone knows the task.
CREATE TABLE kie_tasks (
    task_id       text PRIMARY KEY,
    generation_id text NOT NULL,
    key_id        text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kie_tasks_by_generation ON kie_tasks (generation_id);
