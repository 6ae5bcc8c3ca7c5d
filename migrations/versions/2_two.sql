CREATE TABLE v2 (id int);
