-- migrate:up transaction:false
ALTER TYPE dbmate_role ADD VALUE 'admin';
SELECT 'admin'::dbmate_role;

-- migrate:down
