-- reads the tenant's own gate table, so it waits while another session
-- holds a lock on that table (for as long as it does)
-- morgenmigrate: lock_timeout=0
INSERT INTO accounts SELECT id, current_schema() FROM gate;
