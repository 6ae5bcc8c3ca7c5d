#!/bin/sh
psql -c "INSERT INTO layout_log (what) VALUES ('from a shell script')"
