-- +migrate Up
INSERT INTO layout_log (what) VALUES ('seed');

-- +migrate Down
DELETE FROM layout_log WHERE what = 'seed';
