-- migrate:up
CREATE TABLE malformed_marker (id int);

-- migrate:down
DROP TABLE malformed_marker;
