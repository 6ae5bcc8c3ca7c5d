-- Isolation fixture: the table the other files change.
CREATE TABLE iso_widgets (
    id   integer PRIMARY KEY,
    name text NOT NULL
);
