CREATE TABLE later_after (id int);
