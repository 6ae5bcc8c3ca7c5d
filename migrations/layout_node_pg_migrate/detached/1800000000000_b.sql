-- Up Migration
INSERT INTO layout_log (what) VALUES ('b');

-- Down Migration
DELETE FROM layout_log WHERE what = 'b';
