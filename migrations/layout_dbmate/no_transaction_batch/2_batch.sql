-- migrate:up transaction:false
INSERT INTO layout_log (what) VALUES ('first of the batch');
INSERT INTO layout_log (what) VALUES ('fails ' || 1 / 0);

-- migrate:down transaction:false
DELETE FROM layout_log;
