-- morgenmigrate: allow-locked-rewrite
-- the table is small enough for a rewrite at deploy time
ALTER TABLE orders ADD COLUMN stamped timestamptz DEFAULT clock_timestamp();
