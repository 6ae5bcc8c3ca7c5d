-- A DO block that raises its own SQLSTATE, detail and hint.
DO $$
BEGIN
    RAISE EXCEPTION 'data is not ready'
        USING ERRCODE = 'P0099',
              DETAIL = 'Table legacy_users still has 3 rows.',
              HINT = 'Run the export first.';
END
$$;
