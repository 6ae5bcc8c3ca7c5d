DROP INDEX drift_accounts_email;
