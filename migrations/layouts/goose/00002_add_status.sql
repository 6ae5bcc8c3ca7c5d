-- +goose Up
ALTER TABLE goose_accounts ADD COLUMN status text NOT NULL DEFAULT 'new';

-- +goose Down
ALTER TABLE goose_accounts DROP COLUMN status;
