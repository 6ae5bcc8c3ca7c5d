SELECT 1; -- undo 003_b
