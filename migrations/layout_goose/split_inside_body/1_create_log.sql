-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION layout_one() RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT 1;
END;
-- +goose Down
DROP FUNCTION layout_one();
DROP TABLE layout_log;
