CREATE TABLE status_b (id int);
