-- A statement a migration cannot run, on line 4.
SELECT 1;

SAVEPOINT before_insert;
INSERT INTO preflight_first VALUES (1);
RELEASE SAVEPOINT before_insert;
