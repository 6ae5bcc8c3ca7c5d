DROP TABLE fwu_accounts;
