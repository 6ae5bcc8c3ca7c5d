-- +migrate Up
CREATE FUNCTION member_count(team integer) RETURNS bigint
    LANGUAGE sql STABLE
    AS $$ SELECT count(*) FROM members WHERE team_id = team $$;

-- +migrate Down
DROP FUNCTION member_count(integer);
