INSERT INTO layout_log (what) VALUES ('V1.2');
