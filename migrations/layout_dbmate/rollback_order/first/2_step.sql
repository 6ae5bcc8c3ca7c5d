-- migrate:up
INSERT INTO layout_log (what) VALUES ('2');

-- migrate:down
DELETE FROM layout_log WHERE what = '2';
