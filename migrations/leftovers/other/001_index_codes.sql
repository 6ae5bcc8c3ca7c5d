CREATE INDEX CONCURRENTLY IF NOT EXISTS gadgets_code_idx ON gadgets (code);
