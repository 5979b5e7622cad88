-- Helpers that policies and queries use to learn who the request is for.
--
-- The Rust side opens every request transaction with
--   select set_config('request.jwt.claims', $1, true),
--          set_config('role', auth.effective_role($2::uuid), true)
-- so the claims below are transaction-local, and current_user is the role the database
-- (not the claims) decided. Policies call these as (select auth.uid()) so they are
-- evaluated once per statement, not once per row.

-- The request's claims, {} when unset or empty (a pooled connection that never set them).
CREATE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claims', true), ''),
        '{}'
    )::jsonb
$$;

-- The signed-in user's id, NULL for anonymous requests.
CREATE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT nullif(auth.jwt() ->> 'sub', '')::uuid
$$;

-- The role the app *claimed*. Informational: it can be stale (the session was created
-- before a demotion). Authorization uses current_user / auth.is_admin(), which come from
-- auth.effective_role() reading the profile on every request.
CREATE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT auth.jwt() ->> 'role'
$$;

-- True when the request runs as the admin role. Reads the `role` setting rather than
-- current_user so it still answers for the request inside SECURITY DEFINER functions
-- (where current_user is the function's owner). Only members of admin can set it.
CREATE FUNCTION auth.is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.current_setting('role', true) = 'admin'
$$;

REVOKE ALL ON FUNCTION auth.jwt(), auth.uid(), auth.role(), auth.is_admin() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwt(), auth.uid(), auth.role(), auth.is_admin()
    TO anon, authenticated, admin, auth_service;

-- Shared BEFORE UPDATE trigger. Trigger functions are not callable directly and need no
-- EXECUTE grant to fire, so nobody gets one.
CREATE FUNCTION public.set_updated_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.set_updated_at() FROM PUBLIC;
