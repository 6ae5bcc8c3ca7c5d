-- Isolation fixture with down files, for apply against rollback.
CREATE TABLE iso_gadgets (
    id integer PRIMARY KEY
);
