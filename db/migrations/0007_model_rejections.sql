-- KIE refused a create as invalid (422) although the catalog validated the inputs: the model's schema at
-- KIE has most likely changed. One row per generation; the admin panel lists them per model.
CREATE TABLE model_rejections (
    generation_id text PRIMARY KEY,
    model_id      text NOT NULL,
    code          text,
    message       text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_rejections_by_model ON model_rejections (model_id, created_at DESC);
