package migrations

// A data migration only goose can run (the test never compiles it).
