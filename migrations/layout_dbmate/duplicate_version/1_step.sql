-- migrate:up
INSERT INTO layout_log (what) VALUES ('1');

-- migrate:down
DELETE FROM layout_log WHERE what = '1';
