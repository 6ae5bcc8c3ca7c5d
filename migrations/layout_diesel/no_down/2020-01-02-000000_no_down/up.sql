INSERT INTO layout_log (what) VALUES ('no_down');
