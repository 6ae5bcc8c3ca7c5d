-- Up Migration
INSERT INTO layout_log (what) VALUES ('ab');

-- Down Migration
DELETE FROM layout_log WHERE what = 'ab';
