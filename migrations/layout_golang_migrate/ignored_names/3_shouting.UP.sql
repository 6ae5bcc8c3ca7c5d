INSERT INTO layout_log (what) VALUES ('3_shouting.UP.sql ran');
