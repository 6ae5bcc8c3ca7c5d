-- Up Migration
INSERT INTO layout_log (what) VALUES ('B');

-- Down Migration
DELETE FROM layout_log WHERE what = 'B';
