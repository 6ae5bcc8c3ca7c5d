-- +migrate Up
INSERT INTO layout_log (what) VALUES ('02');

-- +migrate Down
DELETE FROM layout_log WHERE what = '02';
