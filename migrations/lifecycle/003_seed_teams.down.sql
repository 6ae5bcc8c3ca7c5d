DELETE FROM teams WHERE id IN (1, 2);
