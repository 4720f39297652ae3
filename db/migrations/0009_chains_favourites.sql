-- What users do after a result: a follow-up names the generation it continues (history shows the chain), a
-- recipe's steps name the recipe, and a user can keep a result among their favourites.
ALTER TABLE generations ADD COLUMN parent_id text;
ALTER TABLE generations ADD COLUMN chain_id text;
ALTER TABLE generations ADD COLUMN favourite boolean NOT NULL DEFAULT false;
CREATE INDEX generations_by_parent ON generations (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX generations_favourites ON generations (user_id, created_at DESC) WHERE favourite;
