-- +migrate Up
INSERT INTO layout_log (what) VALUES ('hidden');

-- +migrate Down
DELETE FROM layout_log WHERE what = 'hidden';
