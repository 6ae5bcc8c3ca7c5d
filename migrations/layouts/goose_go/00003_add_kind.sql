-- +goose Up
ALTER TABLE goose_go_events ADD COLUMN kind text;
-- +goose Down
ALTER TABLE goose_go_events DROP COLUMN kind;
