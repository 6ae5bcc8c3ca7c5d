-- Up Migration
INSERT INTO layout_log (what) VALUES ('13');

-- Down Migration
DELETE FROM layout_log WHERE what = '13';
