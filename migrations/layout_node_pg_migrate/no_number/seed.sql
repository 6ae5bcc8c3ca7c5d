-- Up Migration
INSERT INTO layout_log (what) VALUES ('seed');

-- Down Migration
DELETE FROM layout_log WHERE what = 'seed';
