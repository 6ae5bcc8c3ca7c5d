-- +goose Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- +goose Down
DROP TABLE layout_log;
