-- ACCESS EXCLUSIVE on members too, but the first file already holds it
ALTER TABLE members ADD COLUMN role text;
