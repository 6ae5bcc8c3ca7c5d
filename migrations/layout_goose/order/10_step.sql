-- +goose Up
INSERT INTO layout_log (what) VALUES ('10');
-- +goose Down
DELETE FROM layout_log WHERE what = '10';
