CREATE TABLE malformed_marker (id int);
-- Down Migration
DROP TABLE malformed_marker;
