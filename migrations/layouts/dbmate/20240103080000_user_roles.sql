-- migrate:up
CREATE TYPE dbmate_role AS ENUM ('member');

-- migrate:down
DROP TYPE dbmate_role;
