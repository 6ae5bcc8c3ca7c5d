CREATE TABLE status_c (id int);
