-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY goose_accounts_status_idx ON goose_accounts (status);

-- +goose Down
DROP INDEX CONCURRENTLY goose_accounts_status_idx;
