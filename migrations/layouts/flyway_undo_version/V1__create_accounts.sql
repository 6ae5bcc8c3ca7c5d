CREATE TABLE fwu_accounts (id integer PRIMARY KEY);
