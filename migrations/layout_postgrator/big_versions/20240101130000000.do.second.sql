INSERT INTO layout_log (what) VALUES ('second');
