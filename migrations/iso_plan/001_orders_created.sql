-- AccessExclusiveLock: conflicts with every lock
ALTER TABLE iso_plan_orders ADD COLUMN created timestamptz DEFAULT clock_timestamp();
