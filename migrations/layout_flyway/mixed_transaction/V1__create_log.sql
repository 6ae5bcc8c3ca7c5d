CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
CREATE INDEX CONCURRENTLY layout_log_what ON layout_log (what);
