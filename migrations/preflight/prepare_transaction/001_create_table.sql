-- Would create a table, but the next file is refused first.
CREATE TABLE preflight_first (id int PRIMARY KEY);
