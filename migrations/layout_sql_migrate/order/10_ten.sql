-- +migrate Up
INSERT INTO layout_log (what) VALUES ('10');

-- +migrate Down
DELETE FROM layout_log WHERE what = '10';
