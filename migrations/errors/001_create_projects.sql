CREATE TABLE projects (id int PRIMARY KEY, name text);
