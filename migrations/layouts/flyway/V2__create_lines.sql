CREATE TABLE fw_lines (order_id int REFERENCES fw_orders, sku text);
