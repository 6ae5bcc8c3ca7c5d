-- migrate:up
/*
-- +migrate Up
*/
INSERT INTO layout_log (what) VALUES ('after the block comment');

-- migrate:down
DELETE FROM layout_log;
