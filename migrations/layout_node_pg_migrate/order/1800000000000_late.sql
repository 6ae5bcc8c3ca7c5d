-- Up Migration
INSERT INTO layout_log (what) VALUES ('late');

-- Down Migration
DELETE FROM layout_log WHERE what = 'late';
