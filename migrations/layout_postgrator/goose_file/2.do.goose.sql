-- +goose Up
INSERT INTO layout_log (what) VALUES ('goose');
-- +goose Down
DELETE FROM layout_log;
