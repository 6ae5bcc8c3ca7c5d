INSERT INTO layout_log (what) VALUES ('huge version ran');
