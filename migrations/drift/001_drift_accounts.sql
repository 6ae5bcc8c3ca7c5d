-- the table the drift tests change by hand
CREATE TABLE drift_accounts (id int PRIMARY KEY, email text NOT NULL);
