-- a later file still gets deferred checks at its own end
INSERT INTO kids VALUES (2);
INSERT INTO parents VALUES (2);
