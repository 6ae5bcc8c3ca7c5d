-- migrate:up
/*
-- +migrate Up
*/
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);

-- migrate:down
DELETE FROM layout_log;
