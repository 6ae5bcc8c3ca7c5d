CREATE TABLE v1a (id int);
