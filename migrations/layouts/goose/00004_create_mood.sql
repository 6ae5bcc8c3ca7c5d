-- +goose up
CREATE TYPE goose_mood AS ENUM ('ok');
ALTER TABLE goose_accounts ADD COLUMN mood goose_mood;
-- +goose down
ALTER TABLE goose_accounts DROP COLUMN mood;
DROP TYPE goose_mood;
