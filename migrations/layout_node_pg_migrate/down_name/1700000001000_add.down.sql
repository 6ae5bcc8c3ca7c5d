-- Up Migration
INSERT INTO layout_log (what) VALUES ('add.down');

-- Down Migration
DELETE FROM layout_log WHERE what = 'add.down';
