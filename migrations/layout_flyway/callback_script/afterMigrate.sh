#!/bin/sh
psql -c "VACUUM ANALYZE"
