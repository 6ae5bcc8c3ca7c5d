-- migrate:up
INSERT INTO layout_log (what) VALUES ('10, added later');

-- migrate:down
DELETE FROM layout_log WHERE what = '10, added later';
