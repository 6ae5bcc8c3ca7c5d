DROP INDEX CONCURRENTLY fw_lines_sku_idx;
