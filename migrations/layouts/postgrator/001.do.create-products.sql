CREATE TABLE pg_products (id int PRIMARY KEY, name text);
