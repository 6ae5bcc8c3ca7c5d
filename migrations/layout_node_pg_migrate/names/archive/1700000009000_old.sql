-- Up Migration
INSERT INTO layout_log (what) VALUES ('archive');

-- Down Migration
DELETE FROM layout_log WHERE what = 'archive';
