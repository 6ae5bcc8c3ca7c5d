-- Revert teams:add_member_roles from pg

BEGIN;

DROP VIEW team_sizes;
ALTER TABLE members DROP COLUMN role;

COMMIT;
