INSERT INTO layout_log (what) VALUES ('01 up');
