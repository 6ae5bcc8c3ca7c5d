-- No directive: morgenmigrate.lock_timeout, or the caller's lock_timeout
-- when that setting is 0.
INSERT INTO limits_seen SELECT 2, current_setting('lock_timeout');
