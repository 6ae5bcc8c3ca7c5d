SELECT 1/0; -- dotfiles are never migrations
