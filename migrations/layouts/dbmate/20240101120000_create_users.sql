-- migrate:up
CREATE TABLE dbmate_users (
    id    bigint PRIMARY KEY,
    login text NOT NULL UNIQUE
);

-- migrate:down
DROP TABLE dbmate_users;
