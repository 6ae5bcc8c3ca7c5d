-- Up Migration
INSERT INTO layout_log (what) VALUES ('backslash');

-- Down Migration
DELETE FROM layout_log WHERE what = 'backslash';
