CREATE TABLE utf8_ok (id int);
