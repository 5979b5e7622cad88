-- Roles and schema privileges.
--
-- Roles are cluster-wide while this file runs once per database (the Rust tests create
-- many databases in one cluster, often in parallel), so every role and membership is
-- created only when missing, and a concurrent creation by another database's migration
-- (unique_violation on the shared catalog) is treated as "already there".
--
-- Runs as the database owner (CREATEROLE, not superuser). Nothing here may need superuser.

DO $$
DECLARE
    r text;
BEGIN
    -- What requests and services run as. NOLOGIN: only reachable through authenticator.
    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'admin', 'auth_service', 'outbox_worker'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT NOBYPASSRLS', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a migration running in another database
            END;
        END IF;
    END LOOP;

    -- The app's login role. NOINHERIT: it holds none of its members' privileges until it
    -- switches with set_config('role', ...). No password here: production sets one with
    -- ALTER ROLE outside migrations; local development uses trust auth.
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'authenticator') THEN
        BEGIN
            CREATE ROLE authenticator LOGIN NOINHERIT NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;

    FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'admin', 'auth_service', 'outbox_worker'] LOOP
        IF NOT EXISTS (
            SELECT FROM pg_catalog.pg_auth_members m
            WHERE m.roleid = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = r)
              AND m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'authenticator')
        ) THEN
            BEGIN
                EXECUTE format('GRANT %I TO authenticator', r);
            EXCEPTION WHEN unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;

-- The roles may predate this database (made by hand, or by an older migration). RLS means
-- nothing if one of them is a superuser or bypasses RLS, so refuse to go on instead of
-- silently trusting them. (Fixing them needs ALTER ROLE, which races across databases and
-- may need superuser; that is an operator's job.)
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO bad
    FROM pg_catalog.pg_roles
    WHERE rolname IN ('anon', 'authenticated', 'admin', 'auth_service', 'outbox_worker', 'authenticator')
      AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication
           OR (rolname <> 'authenticator' AND rolcanlogin)
           OR (rolname = 'authenticator' AND (rolinherit OR NOT rolcanlogin)));
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'roles with unsafe attributes: %', bad
            USING HINT = 'request roles must be NOLOGIN, authenticator LOGIN NOINHERIT; none may be superuser, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION';
    END IF;
END
$$;

-- Only the owner creates objects; each role gets USAGE where it needs it. authenticator gets
-- no USAGE on public, so before switching role it cannot even name a table there.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO anon, authenticated, admin, auth_service, outbox_worker;

-- Temporary tables would let a request role shadow tables for later statements on the same
-- pooled connection (temp schema comes first in the search path). Nobody but the owner needs them.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;

-- Functions are EXECUTE-able by PUBLIC by default; every function created by the migration
-- owner from here on must be granted explicitly instead.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- The auth subsystem's schema: owned by the migration owner (a schema owner may drop
-- anything inside it, so no request-reachable role may own it); auth_service works in it
-- through grants. Request roles get USAGE for the helper functions only: they have no
-- privilege on any table in it.
CREATE SCHEMA auth;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, admin, auth_service, authenticator;
