INSERT INTO layout_log (what) VALUES ('empty_down');
