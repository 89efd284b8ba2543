CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO users (id, email) VALUES (1, 'Ada@Example.com');
INSERT INTO users (id, email) VALUES (2, 'semi;colon@example.com'); -- a comment; with a semicolon
