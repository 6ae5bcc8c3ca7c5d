INSERT INTO layout_log (what) VALUES ('V2');
