CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE kids (parent_id int REFERENCES parents DEFERRABLE INITIALLY DEFERRED);
-- the kid comes first: the deferred check at the end of the file passes
INSERT INTO kids VALUES (1);
INSERT INTO parents VALUES (1);
