DROP VIEW team_sizes;
ALTER TABLE members DROP COLUMN role;
