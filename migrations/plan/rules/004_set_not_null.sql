-- the CHECK added above is still NOT VALID in the catalog: the set changed
-- the table's constraints, so what SET NOT NULL reads is unknown
ALTER TABLE orders ALTER COLUMN status SET NOT NULL;
ALTER TABLE customers ALTER COLUMN name SET NOT NULL;
