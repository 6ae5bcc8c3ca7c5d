-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY sqlm_items_label_idx ON sqlm_items (label);

-- +migrate Down notransaction
DROP INDEX CONCURRENTLY sqlm_items_label_idx;
