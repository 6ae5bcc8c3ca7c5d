-- migrate:up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);

-- migrate:down
DROP TABLE layout_log;
