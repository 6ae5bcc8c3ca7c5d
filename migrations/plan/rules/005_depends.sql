-- a table created earlier in the set is empty; once filled, its size is
-- what the run will make it
CREATE TABLE audit (id int, at timestamptz);
CREATE INDEX audit_at ON audit (at);
ALTER TABLE audit ADD COLUMN who text DEFAULT random()::text;
INSERT INTO audit SELECT id, now() FROM orders;
CREATE INDEX audit_id ON audit (id);
-- a column added earlier has a type the catalog does not know yet
ALTER TABLE orders ADD COLUMN total numeric;
ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);
-- a renamed table is the same table under its new name; the old name is gone
ALTER TABLE customers RENAME TO buyers;
ALTER TABLE buyers ALTER COLUMN name TYPE varchar(200);
ALTER TABLE customers ADD COLUMN x int;
-- a function the set creates is not in the catalog yet: what its default
-- costs is unknown, on the table it alters
CREATE FUNCTION plan_next_number() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
ALTER TABLE orders ADD COLUMN number int DEFAULT plan_next_number();
DROP TABLE IF EXISTS plan_nothing_here;
