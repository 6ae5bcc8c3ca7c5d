-- the foreign key becomes deferrable: its check waits for the file's end
ALTER TABLE later_kids ALTER CONSTRAINT later_kids_parent_id_fkey
    DEFERRABLE INITIALLY DEFERRED;
INSERT INTO later_kids VALUES (42);
