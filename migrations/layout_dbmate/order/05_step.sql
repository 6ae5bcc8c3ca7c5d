-- migrate:up
INSERT INTO layout_log (what) VALUES ('05');

-- migrate:down
DELETE FROM layout_log WHERE what = '05';
