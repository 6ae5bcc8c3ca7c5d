-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION goose_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := trim(NEW.name);
    RETURN NEW;
END
$$
-- +goose StatementEnd
CREATE TRIGGER goose_touch BEFORE INSERT ON goose_accounts
    FOR EACH ROW EXECUTE FUNCTION goose_touch();

-- +goose Down
DROP TRIGGER goose_touch ON goose_accounts;
DROP FUNCTION goose_touch();
