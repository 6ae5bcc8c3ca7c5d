CREATE TABLE nul_ok (id int);
