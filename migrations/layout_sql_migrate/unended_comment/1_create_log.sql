-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
  -- an indented comment, which sql-migrate keeps as a statement
-- +migrate Down
DROP TABLE layout_log;
