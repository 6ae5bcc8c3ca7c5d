CREATE TABLE late_first (id int);
-- morgenmigrate: lock_timeout=1ms
CREATE TABLE late AS SELECT current_setting('lock_timeout') AS lock_timeout;
