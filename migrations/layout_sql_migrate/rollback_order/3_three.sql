-- +migrate Up
INSERT INTO layout_log (what) VALUES ('3');

-- +migrate Down
DELETE FROM layout_log WHERE what = '3';
