-- Up Migration
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);

-- Down Migration
DROP TABLE layout_log;
