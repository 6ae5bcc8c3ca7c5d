-- migrate:up transaction:false
ALTER TYPE dbmate_role ADD VALUE 'admin'

-- migrate:down
