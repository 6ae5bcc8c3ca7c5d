-- Changes settings in every way a file can.
SET work_mem = '77MB';
SET LOCAL maintenance_work_mem = '99MB';
SELECT pg_catalog.set_config('application_name', 'leaked_from_001', false);
SET search_path = pg_catalog;
CREATE TABLE settings_test.seen_in_001 AS
    SELECT current_setting('work_mem') AS work_mem,
           current_setting('search_path') AS search_path;
