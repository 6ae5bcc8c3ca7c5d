ALTER TABLE iso_gadgets DROP COLUMN color;
