ALTER TABLE pg_products ADD COLUMN price numeric;
