-- every tenant has its accounts, named after the schema they are in
CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL);
