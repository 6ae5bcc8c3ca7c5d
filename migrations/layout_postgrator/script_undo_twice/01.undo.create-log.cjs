module.exports.generateSql = () => "DROP TABLE layout_log";
