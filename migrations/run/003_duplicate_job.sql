-- fails: job 1 exists
INSERT INTO jobs VALUES (3);
INSERT INTO jobs VALUES (1);
