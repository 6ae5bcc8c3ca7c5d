CREATE TABLE after_slow (id int);
