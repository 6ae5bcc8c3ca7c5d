-- someone added this column by hand already: the migration fails
ALTER TABLE drift_accounts
    ADD COLUMN nickname text;
