package migrations

// a draft goose skips: its name has no version
