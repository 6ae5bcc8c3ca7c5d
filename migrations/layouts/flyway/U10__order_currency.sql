ALTER TABLE fw_orders DROP COLUMN currency;
