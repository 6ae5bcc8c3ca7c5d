-- A table the next file writes into.
CREATE TABLE progress_seen (query text);
