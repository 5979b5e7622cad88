-- Public profiles (one per auth.users row, made by trigger at sign-up), the role that is
-- the source of truth for authorization, and auth.effective_role() that reads it.

CREATE TABLE public.profiles (
    id           uuid        PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
    username     text        NOT NULL,
    display_name text,
    bio          text,
    role         text        NOT NULL DEFAULT 'user',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT profiles_username_check CHECK (username ~ '^[a-z0-9_]{3,32}$'),
    CONSTRAINT profiles_display_name_check CHECK (char_length(display_name) <= 64),
    CONSTRAINT profiles_bio_check CHECK (char_length(bio) <= 1000),
    CONSTRAINT profiles_role_check CHECK (role IN ('user', 'admin'))
);
-- The CHECK already forces lower case; the index stays on lower() so relaxing the CHECK
-- later cannot let "Alice" and "alice" coexist. The Rust side maps this name to a Conflict.
CREATE UNIQUE INDEX profiles_username_lower_key ON public.profiles (lower(username));

CREATE TRIGGER profiles_set_updated_at
    BEFORE UPDATE ON public.profiles
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

ALTER TABLE public.profiles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- Public columns for everyone; `role` only for admin and auth_service. A user learns their
-- own role without reading the column: it is the role their request runs as
-- (current_user, auth.is_admin()), set from this column by auth.effective_role().
GRANT SELECT (id, username, display_name, bio, created_at) ON public.profiles TO anon, authenticated;
GRANT UPDATE (username, display_name, bio) ON public.profiles TO authenticated;
GRANT SELECT ON public.profiles TO admin;
GRANT UPDATE (username, display_name, bio, role) ON public.profiles TO admin;
-- auth_service: the sign-up trigger inserts, effective_role and sign-in read.
GRANT SELECT ON public.profiles TO auth_service;
GRANT INSERT (id, username) ON public.profiles TO auth_service;

CREATE POLICY profiles_select_public ON public.profiles
    FOR SELECT TO anon, authenticated USING (true);
CREATE POLICY profiles_update_own ON public.profiles
    FOR UPDATE TO authenticated
    USING (id = (SELECT auth.uid()))
    WITH CHECK (id = (SELECT auth.uid()));
CREATE POLICY profiles_admin_select ON public.profiles
    FOR SELECT TO admin USING (true);
CREATE POLICY profiles_admin_update ON public.profiles
    FOR UPDATE TO admin USING (true) WITH CHECK (true);
CREATE POLICY profiles_auth_service_select ON public.profiles
    FOR SELECT TO auth_service USING (true);
CREATE POLICY profiles_auth_service_insert ON public.profiles
    FOR INSERT TO auth_service WITH CHECK (true);

-- Sign-up: derive a unique username from the email's local part ("Jane.Doe+x@..." ->
-- "jane_doe_x"), adding a random numeric suffix on collision. Collisions are detected by
-- the unique index itself, so two concurrent sign-ups with the same local part both
-- succeed (the second waits for the first, then retries) instead of one failing.
CREATE FUNCTION auth.handle_new_user() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    base       text;
    candidate  text;
    attempt    integer := 0;
    violated   text;
BEGIN
    base := regexp_replace(lower(split_part(NEW.email, '@', 1)), '[^a-z0-9_]+', '_', 'g');
    base := btrim(left(btrim(base, '_'), 24), '_');   -- 24 + '_' + 7 digits <= 32
    IF char_length(base) < 3 THEN
        base := 'user';
    END IF;
    candidate := base;

    LOOP
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
        -- 2, 3, ... up to 7 random digits: a popular name costs a few tries, not one per holder.
        candidate := base || '_' || floor(random() * (10 ^ least(attempt + 1, 7)))::bigint::text;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION auth.handle_new_user() FROM PUBLIC;

CREATE TRIGGER users_create_profile
    AFTER INSERT ON auth.users
    FOR EACH ROW EXECUTE FUNCTION auth.handle_new_user();

-- The role a request runs as, decided by the database on every request:
-- anon when there is no user, the user does not exist or is banned; else the profile's role.
-- Called by authenticator (before it switches role) in the transaction's first statement.
CREATE FUNCTION auth.effective_role(uid uuid) RETURNS text
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT coalesce((
        SELECT CASE p.role WHEN 'admin' THEN 'admin' ELSE 'authenticated' END
        FROM auth.users AS u
        JOIN public.profiles AS p ON p.id = u.id
        WHERE u.id = effective_role.uid
          AND (u.banned_until IS NULL OR u.banned_until <= now())
    ), 'anon')
$$;
REVOKE ALL ON FUNCTION auth.effective_role(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.effective_role(uuid) TO authenticator;

-- SECURITY DEFINER functions run as their owner. The migration owner is the table owner,
-- and FORCE ROW LEVEL SECURITY gives it no rows; auth_service has exactly the grants and
-- policies these two need. Changing the owner needs membership in auth_service and
-- auth_service holding CREATE on the schema, both only for the duration of this block.
DO $$
DECLARE
    granted boolean := false;
BEGIN
    IF NOT pg_catalog.pg_has_role(current_user, 'auth_service', 'MEMBER') THEN
        EXECUTE format('GRANT auth_service TO %I', current_user);
        granted := true;
    END IF;
    GRANT CREATE ON SCHEMA auth TO auth_service;

    ALTER FUNCTION auth.handle_new_user() OWNER TO auth_service;
    ALTER FUNCTION auth.effective_role(uuid) OWNER TO auth_service;

    REVOKE CREATE ON SCHEMA auth FROM auth_service;
    IF granted THEN
        EXECUTE format('REVOKE auth_service FROM %I', current_user);
    END IF;
END
$$;
