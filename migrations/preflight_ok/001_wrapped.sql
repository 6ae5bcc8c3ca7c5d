BEGIN;
-- many migration files carry this wrapper: it is accepted and ignored
CREATE TABLE wrapped (id int PRIMARY KEY);
COMMIT;
