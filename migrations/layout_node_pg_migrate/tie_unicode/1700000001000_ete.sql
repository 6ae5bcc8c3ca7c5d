-- Up Migration
INSERT INTO layout_log (what) VALUES ('ete2');

-- Down Migration
DELETE FROM layout_log WHERE what = 'ete2';
