-- No directive: the caller's lock_timeout again.
INSERT INTO limits_seen SELECT 2, current_setting('lock_timeout');
