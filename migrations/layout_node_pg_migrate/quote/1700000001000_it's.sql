-- Up Migration
INSERT INTO layout_log (what) VALUES ('quoted');

-- Down Migration
DELETE FROM layout_log WHERE what = 'quoted';
