-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);

-- +migrate Down
DROP TABLE layout_log;
