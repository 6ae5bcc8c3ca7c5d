-- Accounts of the shop.
-- +goose Up
CREATE TABLE goose_accounts (
    id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL
);

-- +goose Down
DROP TABLE goose_accounts;
