CREATE TABLE teams (id int PRIMARY KEY, name text NOT NULL);
