DROP FUNCTION member_count(integer);
