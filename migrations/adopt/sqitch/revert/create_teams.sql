-- Revert teams:create_teams from pg

BEGIN;

DROP TABLE teams;

COMMIT;
