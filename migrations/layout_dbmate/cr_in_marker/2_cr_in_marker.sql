--migrate:up
INSERT INTO layout_log (what) VALUES ('up');
-- migrate:down
DELETE FROM layout_log;
