-- What pg_stat_activity says about this backend while this file runs.
INSERT INTO progress_seen
    SELECT query FROM pg_stat_activity WHERE pid = pg_backend_pid();
