-- Up Migration
INSERT INTO layout_log (what) VALUES ('dash');

-- Down Migration
DELETE FROM layout_log WHERE what = 'dash';
