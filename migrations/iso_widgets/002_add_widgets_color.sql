-- Needs an ACCESS EXCLUSIVE lock on iso_widgets.
ALTER TABLE iso_widgets ADD COLUMN color text;
