-- Migrate:Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);

-- Migrate:Down
DROP TABLE layout_log;
