-- migrate:up
-- +goose Down
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- Up migration: the first rows
INSERT INTO layout_log (what) VALUES ('a literal
-- +migrate Down
spanning lines');
/*
-- +goose Up
*/
INSERT INTO layout_log (what) VALUES ('after a block comment');

-- migrate:down
-- Down Migration
DROP TABLE layout_log;
