INSERT INTO layout_log (what) VALUES ('5.0');
