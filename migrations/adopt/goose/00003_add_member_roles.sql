-- +goose Up
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member';

-- +goose Down
ALTER TABLE members DROP COLUMN role;
