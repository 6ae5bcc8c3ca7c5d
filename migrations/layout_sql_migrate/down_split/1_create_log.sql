-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
-- +migrate Down
DO $$ BEGIN
    PERFORM 1;
END $$;
DROP TABLE layout_log;
