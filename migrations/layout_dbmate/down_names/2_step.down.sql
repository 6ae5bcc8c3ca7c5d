-- migrate:up
INSERT INTO layout_log (what) VALUES ('2.down');

-- migrate:down
DELETE FROM layout_log WHERE what = '2.down';
