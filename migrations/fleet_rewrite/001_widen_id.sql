-- widens a tenant's key: a rewrite of its accounts under AccessExclusiveLock
ALTER TABLE accounts ALTER COLUMN id TYPE bigint;
