import subprocess
subprocess.run(["psql", "-c", "REFRESH MATERIALIZED VIEW layout_totals"])
