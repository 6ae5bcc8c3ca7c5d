CREATE TABLE login_log (id bigint, at timestamptz);
CREATE INDEX login_log_at ON login_log (at);
ALTER TABLE login_log ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE login_log ALTER COLUMN id SET NOT NULL;
INSERT INTO login_log (id, at) SELECT id, now() FROM orders;
-- filled now: its index build reads what the run put in
CREATE INDEX login_log_id ON login_log (id);
