-- An optional mood (1 to 5) with each standup; NULL means "not answered".
ALTER TABLE standups
    ADD COLUMN mood smallint CHECK (mood BETWEEN 1 AND 5);
