DROP TABLE pg_products;
