CREATE TYPE fw_status AS ENUM ('open');
ALTER TYPE fw_status ADD VALUE 'paid';
SELECT 'paid'::fw_status;
