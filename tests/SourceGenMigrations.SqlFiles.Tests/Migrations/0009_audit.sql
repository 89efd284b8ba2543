-- migration: no-transaction
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY);
INSERT INTO audit (id) VALUES (9) ON CONFLICT (id) DO NOTHING;
