-- migrate:up
INSERT INTO layout_log (what) VALUES ('a version of 129 characters');

-- migrate:down
DELETE FROM layout_log WHERE what = 'a version of 129 characters';
