ALTER TABLE gm_teams ADD COLUMN name text;
