DROP TYPE fw_status;
