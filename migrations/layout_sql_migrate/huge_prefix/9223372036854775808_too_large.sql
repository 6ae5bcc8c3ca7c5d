-- +migrate Up
INSERT INTO layout_log (what) VALUES ('large');

-- +migrate Down
DELETE FROM layout_log WHERE what = 'large';
