-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- the first rowINSERT INTO layout_log (what) VALUES ('after the carriage return');

-- +migrate Down
DROP TABLE layout_log;
