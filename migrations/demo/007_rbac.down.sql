-- morgenmigrate: lock_timeout=5s retries=3
ALTER TABLE members DROP COLUMN role;
