ALTER TABLE orders ADD COLUMN flag2 boolean;
