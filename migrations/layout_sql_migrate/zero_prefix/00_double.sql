-- +migrate Up
INSERT INTO layout_log (what) VALUES ('00_double');

-- +migrate Down
DELETE FROM layout_log WHERE what = '00_double';
