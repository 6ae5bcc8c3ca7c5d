-- ShareLock: conflicts with writers, not with readers
CREATE INDEX iso_plan_orders_note ON iso_plan_orders (note);
-- ShareUpdateExclusiveLock: conflicts with neither
ALTER TABLE iso_plan_orders VALIDATE CONSTRAINT iso_plan_orders_customer;
