-- Run once by the postgres image when its volume is empty (docker-compose.yml): the database
-- "rasa" (tracker store, POSTGRES_DB) exists already; this adds the assistant's own.
CREATE DATABASE koege OWNER koege;
