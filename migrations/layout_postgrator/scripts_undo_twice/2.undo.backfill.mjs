export function generateSql() {
  return "DELETE FROM layout_log WHERE what = 'backfill'";
}
