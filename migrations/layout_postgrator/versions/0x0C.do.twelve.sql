INSERT INTO layout_log (what) VALUES ('0x0C is 12');
