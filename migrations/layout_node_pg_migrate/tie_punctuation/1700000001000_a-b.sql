-- Up Migration
INSERT INTO layout_log (what) VALUES ('a-b');

-- Down Migration
DELETE FROM layout_log WHERE what = 'a-b';
