INSERT INTO layout_log (what) VALUES ('in_table');
