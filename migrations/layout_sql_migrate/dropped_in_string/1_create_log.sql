-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('one
-- dropped by sql-migrate
end');
-- +migrate Down
DROP TABLE layout_log;
