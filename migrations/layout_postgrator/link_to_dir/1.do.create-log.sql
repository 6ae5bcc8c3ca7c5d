CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
