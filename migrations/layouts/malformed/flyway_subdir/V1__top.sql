CREATE TABLE malformed_marker (id int);
