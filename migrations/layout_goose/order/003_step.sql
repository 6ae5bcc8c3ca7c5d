-- +goose Up
INSERT INTO layout_log (what) VALUES ('003');
-- +goose Down
DELETE FROM layout_log WHERE what = '003';
