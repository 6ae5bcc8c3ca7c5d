-- How long after submitting a member may still edit a standup, enforced by
-- a trigger so that every client of the database obeys it.
ALTER TABLE workspace_config
    ADD COLUMN edit_window_minutes integer NOT NULL DEFAULT 60
        CHECK (edit_window_minutes BETWEEN 0 AND 1440);

CREATE FUNCTION standups_enforce_edit_window() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    window_minutes integer;
BEGIN
    SELECT c.edit_window_minutes INTO window_minutes
    FROM workspace_config c
    WHERE c.team_id = OLD.team_id;

    -- no configuration row: the default window; a ';' here is only text
    window_minutes := coalesce(window_minutes, 60);
    IF now() > OLD.submitted_at + make_interval(mins => window_minutes) THEN
        RAISE EXCEPTION 'standup % can no longer be edited', OLD.id
            USING HINT = $$The edit window is $$ || window_minutes || $$ minutes; ask an admin to widen it.$$;
    END IF;
    RETURN NEW;
END;
$fn$;

CREATE TRIGGER standups_edit_window
    BEFORE UPDATE ON standups
    FOR EACH ROW EXECUTE FUNCTION standups_enforce_edit_window();
