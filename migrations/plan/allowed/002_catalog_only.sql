ALTER TABLE orders ADD COLUMN flag boolean DEFAULT false;
