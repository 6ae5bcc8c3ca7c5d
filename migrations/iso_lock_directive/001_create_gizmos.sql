-- Isolation fixture: a table that the next file alters under its own lock_timeout.
CREATE TABLE iso_gizmos (
    id integer PRIMARY KEY
);
