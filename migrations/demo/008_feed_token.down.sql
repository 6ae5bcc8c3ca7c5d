ALTER TABLE workspace_config DROP COLUMN feed_token;
