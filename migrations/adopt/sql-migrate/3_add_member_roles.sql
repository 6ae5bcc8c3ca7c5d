-- +migrate Up
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member';

-- +migrate Down
ALTER TABLE members DROP COLUMN role;
