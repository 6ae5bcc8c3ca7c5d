DROP TABLE fw_lines;
