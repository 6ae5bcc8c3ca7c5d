-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('one;
two');
-- +migrate Down
DROP TABLE layout_log;
