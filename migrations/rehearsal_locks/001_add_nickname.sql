-- ACCESS EXCLUSIVE on members
ALTER TABLE members ADD COLUMN nickname text;
