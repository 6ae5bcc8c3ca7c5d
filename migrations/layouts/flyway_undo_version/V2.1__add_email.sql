ALTER TABLE fwu_accounts ADD COLUMN email text;
