package migrations

// goose skips a Go file of version 0.
