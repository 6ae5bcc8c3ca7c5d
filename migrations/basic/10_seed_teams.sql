-- Version 10 sorts after version 2: digit runs compare as numbers.
INSERT INTO teams (name) VALUES ('core'), ('web');

CREATE FUNCTION team_count() RETURNS bigint
LANGUAGE plpgsql AS $body$
BEGIN
    -- a semicolon inside a function body; does not split the statement
    RETURN (SELECT count(*) FROM teams);
END;
$body$;
