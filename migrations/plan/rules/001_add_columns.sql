-- a constant default is stored once; a volatile one rewrites the table;
-- json has no equality operator
ALTER TABLE orders ADD COLUMN kind int DEFAULT 0;
ALTER TABLE orders ADD COLUMN created timestamptz DEFAULT clock_timestamp();
ALTER TABLE orders ADD COLUMN props json;
