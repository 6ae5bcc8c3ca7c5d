-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY,
-- +goose NO TRANSACTION
    what text NOT NULL);
-- +goose Down
DROP TABLE layout_log;
