INSERT INTO layout_log (what) VALUES ('3');
