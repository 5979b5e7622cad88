-- New accounts get a random handle ("user_4f3a9c0b1d") as their username instead of one
-- derived from the email's local part: the username is public (every post shows it), and
-- "jane_doe" published next to a post tells anyone the author's address. The user can pick
-- a name on the account page. Existing usernames stay as they are (their owners may have
-- chosen them). Same owner, grants and collision handling as before.
DO $$
DECLARE
    granted boolean := false;
BEGIN
    -- The function belongs to auth_service; replacing it needs membership, for this
    -- transaction only (the same trick as in ..._profiles.sql).
    IF NOT pg_catalog.pg_has_role(current_user, 'auth_service', 'MEMBER') THEN
        EXECUTE format('GRANT auth_service TO %I', current_user);
        granted := true;
    END IF;

    CREATE OR REPLACE FUNCTION auth.handle_new_user() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = ''
    AS $fn$
    DECLARE
        candidate  text;
        attempt    integer := 0;
        violated   text;
    BEGIN
        LOOP
            -- 40 random bits from the CSPRNG behind gen_random_uuid (hex digits 1-10 of a v4
            -- uuid are all random): nothing about the account can be read from it, and a
            -- collision needs about a million accounts before it costs a retry.
            candidate := 'user_' || left(replace(gen_random_uuid()::text, '-', ''), 10);
            BEGIN
                INSERT INTO public.profiles (id, username) VALUES (NEW.id, candidate);
                RETURN NULL;
            EXCEPTION WHEN unique_violation THEN
                GET STACKED DIAGNOSTICS violated = CONSTRAINT_NAME;
                IF violated IS DISTINCT FROM 'profiles_username_lower_key' OR attempt >= 10 THEN
                    RAISE;
                END IF;
            END;
            attempt := attempt + 1;
        END LOOP;
    END
    $fn$;

    IF granted THEN
        EXECUTE format('REVOKE auth_service FROM %I', current_user);
    END IF;
END
$$;
