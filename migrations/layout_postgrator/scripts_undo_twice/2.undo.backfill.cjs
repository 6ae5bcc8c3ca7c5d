module.exports.generateSql = () => "DELETE FROM layout_log WHERE what = 'backfill'";
