-- Two transactions, as psql and postgrator run them.
BEGIN;
INSERT INTO pg_products VALUES (1, 'pen', 1.50);
COMMIT;

-- the second block
BEGIN;
INSERT INTO pg_products VALUES (2, 'ink', 4.00);
COMMIT;
