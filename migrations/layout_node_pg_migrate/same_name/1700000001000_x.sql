-- Up Migration
INSERT INTO layout_log (what) VALUES ('x');

-- Down Migration
DELETE FROM layout_log WHERE what = 'x';
