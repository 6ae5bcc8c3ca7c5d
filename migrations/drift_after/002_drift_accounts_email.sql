CREATE INDEX drift_accounts_email ON drift_accounts (email);
