-- migrate:up
INSERT INTO layout_log (what) VALUES ('20.down');

-- migrate:down
DELETE FROM layout_log WHERE what = '20.down';
