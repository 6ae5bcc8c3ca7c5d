-- An enum value is used in the file that adds it: goose runs this file
-- outside a transaction, one statement at a time.
-- +goose NO TRANSACTION
-- +goose Up
ALTER TYPE goose_mood ADD VALUE 'great';
INSERT INTO goose_accounts (name, mood) VALUES ('first', 'great');

-- +goose Down
DELETE FROM goose_accounts WHERE mood = 'great';
