INSERT INTO layout_log (what) VALUES ('.4_hidden.up.sql ran');
