DROP TRIGGER standups_edit_window ON standups;
DROP FUNCTION standups_enforce_edit_window();
ALTER TABLE workspace_config DROP COLUMN edit_window_minutes;
