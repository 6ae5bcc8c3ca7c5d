ALTER TABLE gm_teams ADD COLUMN size int;
