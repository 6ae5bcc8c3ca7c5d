SELECT 1; -- undo 004_c
