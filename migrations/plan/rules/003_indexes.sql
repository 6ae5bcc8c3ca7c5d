CREATE INDEX orders_status ON orders (status);
CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);
DROP INDEX orders_status;
