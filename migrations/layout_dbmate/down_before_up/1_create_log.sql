-- migrate:down is further below
-- migrate:up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
INSERT INTO layout_log (what) VALUES ('up');

-- migrate:down
DROP TABLE layout_log;
