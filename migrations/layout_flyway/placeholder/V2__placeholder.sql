INSERT INTO layout_log (what) VALUES ('applied by ${flyway:user}');
