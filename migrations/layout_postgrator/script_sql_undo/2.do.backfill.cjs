module.exports.generateSql = () => "INSERT INTO layout_log (what) VALUES ('backfill')";
