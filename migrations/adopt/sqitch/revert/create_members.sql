-- Revert teams:create_members from pg

BEGIN;

DROP TABLE members;

COMMIT;
