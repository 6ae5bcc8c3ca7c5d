-- the log, then a

-- Up Migration
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('a');
-- Down Migration
DROP TABLE layout_log;
