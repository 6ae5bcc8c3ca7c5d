-- morgenmigrate: lock_timeout=100ms retries=2
ALTER TABLE iso_gizmos ADD COLUMN weight numeric;
