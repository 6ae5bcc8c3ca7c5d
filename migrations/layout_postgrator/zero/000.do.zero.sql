INSERT INTO layout_log (what) VALUES ('version 0');
