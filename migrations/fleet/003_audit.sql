-- fails in a tenant that already has a table audit
CREATE TABLE audit AS SELECT id FROM accounts;
