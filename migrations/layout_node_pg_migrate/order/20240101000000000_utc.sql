-- Up Migration
INSERT INTO layout_log (what) VALUES ('utc');

-- Down Migration
DELETE FROM layout_log WHERE what = 'utc';
