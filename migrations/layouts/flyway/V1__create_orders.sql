CREATE TABLE fw_orders (id int PRIMARY KEY, total numeric NOT NULL);
