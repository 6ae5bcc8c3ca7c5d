-- Adds two columns; the second statement has a typo on line 7.
ALTER TABLE accounts ADD COLUMN email text;

ALTER TABLE accounts
    ADD COLUMN name text,
    -- the next line misspells COLUMN
    ADD COLUMNN nickname text;
