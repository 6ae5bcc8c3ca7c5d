-- Revert teams:create_member_count from pg

BEGIN;

DROP FUNCTION member_count(integer);

COMMIT;
