-- Fills projects from a table that does not exist.
INSERT INTO projects VALUES (1, 'first');

-- the error is on line 8, in the middle of this statement

INSERT INTO projects (id, name)
SELECT id, name
FROM teams_that_do_not_exist;
