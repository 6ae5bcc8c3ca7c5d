ALTER TABLE teams ADD COLUMN slug text;
