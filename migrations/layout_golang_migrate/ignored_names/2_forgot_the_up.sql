INSERT INTO layout_log (what) VALUES ('2_forgot_the_up.sql ran');
