-- A secret token per workspace for its public standup feed.
ALTER TABLE workspace_config ADD COLUMN feed_token uuid;
UPDATE workspace_config SET feed_token = gen_random_uuid();
ALTER TABLE workspace_config
    ALTER COLUMN feed_token SET DEFAULT gen_random_uuid(),
    ALTER COLUMN feed_token SET NOT NULL,
    ADD CONSTRAINT workspace_config_feed_token_key UNIQUE (feed_token);
