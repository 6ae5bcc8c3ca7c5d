-- Adding a column takes an ACCESS EXCLUSIVE lock on members.
ALTER TABLE members ADD COLUMN nickname text;
