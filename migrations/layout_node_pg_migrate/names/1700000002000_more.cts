export const up = (pgm: any) => { pgm.sql("INSERT INTO layout_log (what) VALUES ('cts')"); };
