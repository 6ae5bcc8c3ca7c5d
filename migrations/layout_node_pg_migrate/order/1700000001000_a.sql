-- Up Migration
INSERT INTO layout_log (what) VALUES ('a');

-- Down Migration
DELETE FROM layout_log WHERE what = 'a';
