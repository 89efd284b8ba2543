-- migration: disabled
-- Superseded before it ever ran: it must never run.
DROP TABLE users;
