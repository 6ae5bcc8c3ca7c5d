SELECT 1;
-- migrate:up
CREATE TABLE malformed_marker (id int);
-- migrate:down
