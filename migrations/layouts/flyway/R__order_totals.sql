CREATE OR REPLACE VIEW fw_order_totals AS
    SELECT o.id, count(l.sku) AS lines FROM fw_orders o LEFT JOIN fw_lines l ON l.order_id = o.id GROUP BY o.id;
