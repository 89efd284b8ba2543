CREATE FUNCTION user_count() RETURNS bigint AS $$
    SELECT count(*) FROM users;
$$ LANGUAGE sql;

CREATE FUNCTION greet(name text) RETURNS text AS $body$
BEGIN
    RETURN 'hello; ' || name;
END;
$body$ LANGUAGE plpgsql;
