INSERT INTO kids VALUES (2);
-- no parent 99: fails when the file's deferred constraints are checked
INSERT INTO kids VALUES (99);
