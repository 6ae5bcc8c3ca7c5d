-- +migrate Up
-- +migrate StatementBegin
CREATE FUNCTION layout_label() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    -- a comment in the body, which sql-migrate keeps
    RETURN 'block';
END
$$;
-- +migrate StatementEnd
INSERT INTO layout_log (what) VALUES (layout_label());
-- +migrate Down
DELETE FROM layout_log WHERE what = 'block';
DROP FUNCTION layout_label();
