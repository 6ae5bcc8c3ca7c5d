-- Helpers of the sql/layout_<runner>.sql tests.  Their fixtures write what
-- ran, in order, into the table layout_log (created by the first migration
-- of each case), so that a case can show what ran and what did not.

-- What the database holds: the number of history rows and the log.
CREATE FUNCTION state(OUT history bigint, OUT log text) LANGUAGE plpgsql AS $$
BEGIN
    history := (SELECT count(*) FROM morgenmigrate.schema_migrations);
    IF to_regclass('layout_log') IS NULL THEN
        log := 'no layout_log';
    ELSE
        EXECUTE 'SELECT coalesce(string_agg(what, '' | '' ORDER BY id), ''empty'') FROM layout_log'
            INTO log;
    END IF;
END
$$;

-- Starts the next case afresh: no log table, no history, no failures.
CREATE FUNCTION reset() RETURNS void LANGUAGE sql AS $$
    DROP TABLE IF EXISTS layout_log;
    TRUNCATE morgenmigrate.schema_migrations, morgenmigrate.migration_errors;
$$;

-- Runs a call that must be refused: its SQLSTATE as code ('no error' if it was not
-- refused), whether the error (message, detail, hint or context) names the
-- file it is about, and what the database holds afterwards.
CREATE FUNCTION refusal(call text, file text, OUT code text,
                        OUT names_file boolean, OUT history bigint, OUT log text)
LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    det text;
    hnt text;
    ctx text;
BEGIN
    BEGIN
        EXECUTE call;
        code := 'no error';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE,
            msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
        names_file := position(file IN concat_ws(' ', msg, det, hnt, ctx)) > 0;
    END;
    SELECT * INTO history, log FROM state();
END
$$;

-- A directory that must be refused before anything runs, on a fresh
-- database: what migrate_layout, migrate_status and migrate_apply say.
CREATE FUNCTION refused(dir text, file text)
RETURNS TABLE (call text, code text, names_file boolean, history bigint,
               log text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM reset();
    RETURN QUERY SELECT 'layout', r.* FROM refusal(format(
        'SELECT * FROM morgenmigrate.migrate_layout(%L)', dir), file) AS r;
    RETURN QUERY SELECT 'status', r.* FROM refusal(format(
        'SELECT * FROM morgenmigrate.migrate_status(%L)', dir), file) AS r;
    RETURN QUERY SELECT 'apply', r.* FROM refusal(format(
        'SELECT * FROM morgenmigrate.migrate_apply(%L)', dir), file) AS r;
    PERFORM reset();
END
$$;
