-- Up Migration
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('one
-- Down Migration
still the string');
-- Down Migration
DROP TABLE layout_log;
