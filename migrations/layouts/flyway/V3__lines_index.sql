-- Flyway runs a script with CREATE INDEX CONCURRENTLY outside a transaction.
CREATE INDEX CONCURRENTLY fw_lines_sku_idx ON fw_lines (sku);
