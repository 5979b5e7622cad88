//! Posts against the real services: reads through the cache for every kind of reader, every
//! write path invalidating it, the stampede guard, Redis going away, bad input, XSS, and who
//! may change what (the server and the database both).
mod authoring;
mod boundaries;
mod caching;
