-- nothing of the call runs: not this file, not the one before it
ALTER TABLE orders ADD COLUMN flag3 boolean;
ALTER TABLE orders ALTER COLUMN customer_id TYPE int;
