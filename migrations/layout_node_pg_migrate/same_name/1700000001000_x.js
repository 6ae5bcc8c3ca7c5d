exports.up = (pgm) => {};
