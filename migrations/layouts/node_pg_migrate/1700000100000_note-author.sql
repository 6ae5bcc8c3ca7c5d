-- up migration
ALTER TABLE npm_notes ADD COLUMN author text;
-- down migration
ALTER TABLE npm_notes DROP COLUMN author;
