-- already created by hand on the existing database: baselined
CREATE TABLE status_d (id int);
