INSERT INTO layout_log (what) VALUES ('v6.up.sql ran');
