-- Up Migration
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- Up migration: and one more thing
INSERT INTO layout_log (what) VALUES ('more');
-- Down Migration
DROP TABLE layout_log;
