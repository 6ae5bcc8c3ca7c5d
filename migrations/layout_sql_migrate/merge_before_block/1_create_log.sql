-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL)
-- +migrate StatementBegin
DO $$ BEGIN PERFORM 1; END $$;
-- +migrate StatementEnd
-- +migrate Down
DROP TABLE layout_log;
