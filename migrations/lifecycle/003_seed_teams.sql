INSERT INTO teams VALUES (1, 'core'), (2, 'web');
