ALTER TABLE fwu_accounts DROP COLUMN email;
