-- a foreign key reads and locks both tables; NOT VALID reads nothing, but
-- validating it in the same file runs under that statement's lock
ALTER TABLE orders ADD CONSTRAINT orders_customer
  FOREIGN KEY (customer_id) REFERENCES customers;
ALTER TABLE orders ADD CONSTRAINT orders_note CHECK (note <> '') NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_note;
