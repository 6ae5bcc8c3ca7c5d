ALTER TABLE iso_gadgets ADD COLUMN color text;
