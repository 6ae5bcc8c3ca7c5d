DELETE FROM pg_products WHERE id IN (1, 2);
