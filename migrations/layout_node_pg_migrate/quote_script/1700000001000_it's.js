exports.up = (pgm) => { pgm.sql("INSERT INTO layout_log (what) VALUES ('quoted')"); };
