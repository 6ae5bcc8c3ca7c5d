INSERT INTO accounts VALUES (1, current_schema());
