-- +migrate Up
CREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);
CREATE FUNCTION layout_label() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN 'body';
END
$$;
-- +migrate Down
DROP TABLE layout_log;
