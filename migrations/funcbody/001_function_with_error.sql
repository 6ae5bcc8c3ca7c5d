-- A function whose body has a syntax error on line 7 of this file.
CREATE FUNCTION broken() RETURNS int
LANGUAGE plpgsql AS $fn$
DECLARE
    n int;
BEGIN
    n := 1 2;
    RETURN n;
END
$fn$;
