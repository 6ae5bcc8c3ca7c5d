CREATE TABLE status_a (id int);
