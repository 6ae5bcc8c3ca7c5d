CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- Up migration: the first row
INSERT INTO layout_log (what) VALUES ('after the up comment');
-- Down migration: golang-migrate keeps the down part in its own file
INSERT INTO layout_log (what) VALUES ('after the down comment');
