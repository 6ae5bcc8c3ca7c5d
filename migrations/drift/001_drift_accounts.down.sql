DROP TABLE drift_accounts;
