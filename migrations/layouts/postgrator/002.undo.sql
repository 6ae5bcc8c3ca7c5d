ALTER TABLE pg_products DROP COLUMN price;
