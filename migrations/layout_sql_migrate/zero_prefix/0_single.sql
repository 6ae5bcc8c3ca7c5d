-- +migrate Up
INSERT INTO layout_log (what) VALUES ('0_single');

-- +migrate Down
DELETE FROM layout_log WHERE what = '0_single';
