package migrations

// goose skips Go test files.
