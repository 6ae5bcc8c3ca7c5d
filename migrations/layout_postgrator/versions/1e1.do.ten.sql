INSERT INTO layout_log (what) VALUES ('1e1 is 10');
