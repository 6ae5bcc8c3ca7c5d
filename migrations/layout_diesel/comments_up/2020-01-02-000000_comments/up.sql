-- the seed data will come here
/* once it is written */
