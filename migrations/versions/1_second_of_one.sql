CREATE TABLE v1b (id int);
