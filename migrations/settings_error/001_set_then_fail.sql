-- Sets a setting, then fails.
SET work_mem = '99MB';
SELECT 1 / 0;
