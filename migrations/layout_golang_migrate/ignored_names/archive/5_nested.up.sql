INSERT INTO layout_log (what) VALUES ('archive/5_nested.up.sql ran');
