CREATE FUNCTION member_count(team integer) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM members WHERE team_id = team $$;
