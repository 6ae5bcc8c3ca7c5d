-- renames break the running application; a small UPDATE is fine; what a
-- function does cannot be told
ALTER TABLE orders RENAME COLUMN note TO remark;
UPDATE orders SET kind = 1;
/* a comment /* nested */ before it */
SELECT count(*) FROM orders;
CREATE FUNCTION plan_noop() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
