CREATE TABLE later_parents (id int PRIMARY KEY);
CREATE TABLE later_kids (parent_id int REFERENCES later_parents);
