-- +goose Up
CREATE TABLE malformed_marker (id int);
-- +goose StatementBegin
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
-- +goose Down
