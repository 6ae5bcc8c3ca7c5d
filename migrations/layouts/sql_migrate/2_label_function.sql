-- +migrate Up
-- +migrate StatementBegin
CREATE FUNCTION sqlm_label(i int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    SELECT label INTO result FROM sqlm_items WHERE id = i;
    RETURN result;
END;
$$;
-- +migrate StatementEnd

-- +migrate Down
DROP FUNCTION sqlm_label(int);
