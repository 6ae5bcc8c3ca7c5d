package migrations

// goose skips a Go file without a version.
