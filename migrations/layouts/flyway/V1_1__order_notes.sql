ALTER TABLE fw_orders ADD COLUMN note text;
