DROP TABLE standups;
DROP TABLE members;
DROP TABLE workspace_config;
DROP TABLE installations;
