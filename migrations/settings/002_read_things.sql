-- Sees the caller's settings, not those of 001.
CREATE TABLE seen_in_002 AS
    SELECT current_setting('work_mem') AS work_mem,
           current_setting('maintenance_work_mem') AS maintenance_work_mem,
           current_setting('application_name') AS application_name,
           current_setting('search_path') AS search_path;
