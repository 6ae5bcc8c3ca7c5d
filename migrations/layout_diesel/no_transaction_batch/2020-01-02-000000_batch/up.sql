INSERT INTO layout_log (what) VALUES ('first of the batch');
INSERT INTO layout_log (what) VALUES ('second of the batch ' || 1 / 0);
