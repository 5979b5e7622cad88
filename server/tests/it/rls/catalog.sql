-- Every row is a problem; the expected result is empty.
WITH problems(problem, object) AS (
    -- 1. Tables (plain or partitioned) in public/auth without RLS both enabled and forced.
    --    sqlx's bookkeeping table is excluded: sqlx reads and writes it as the owner, so
    --    FORCE with no owner policy would break the migrator; it holds no user data and
    --    nobody but the owner has any privilege on it.
    SELECT 'table without ENABLE + FORCE row level security', format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'auth')
      AND c.relkind IN ('r', 'p')
      AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
      AND NOT (n.nspname = 'public' AND c.relname = '_sqlx_migrations')

    UNION ALL
    -- 2. Policies calling an auth helper outside a sub-select (evaluated per row instead of
    --    once per statement). Deparsed as "( SELECT auth.uid() AS uid)"; the schema prefix
    --    disappears when auth is on the search_path, so it is optional in both patterns.
    SELECT 'policy calls auth helper without (select ...)',
           format('%I.%I %I', p.schemaname, p.tablename, p.policyname)
    FROM pg_catalog.pg_policies p
    WHERE regexp_replace(
              coalesce(p.qual, '') || ' ' || coalesce(p.with_check, ''),
              '\(\s*SELECT\s+(auth\.)?(uid|role|jwt|is_admin)\(\)\s+AS\s+\w+\s*\)', '', 'gi')
          ~* '\m(auth\.)?(uid|role|jwt|is_admin)\s*\('

    UNION ALL
    -- 3. Views in public/auth that run as their owner (the table owner, whom FORCE only
    --    half-restrains) instead of the caller.
    SELECT 'view without security_invoker', format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'auth') AND c.relkind IN ('v', 'm')
      AND NOT coalesce('security_invoker=true' = ANY (c.reloptions)
                       OR 'security_invoker=on' = ANY (c.reloptions), false)

    UNION ALL
    -- 4. SECURITY DEFINER functions without a pinned search_path.
    SELECT 'security definer function without search_path',
           format('%I.%I(%s)', n.nspname, f.proname, pg_catalog.pg_get_function_identity_arguments(f.oid))
    FROM pg_catalog.pg_proc f
    JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
    WHERE n.nspname IN ('public', 'auth') AND f.prosecdef
      AND NOT EXISTS (SELECT FROM unnest(f.proconfig) cfg WHERE cfg LIKE 'search_path=%')

    UNION ALL
    -- 5. Functions in public/auth executable by PUBLIC (NULL acl = the default, which includes PUBLIC).
    SELECT 'function executable by PUBLIC',
           format('%I.%I(%s)', n.nspname, f.proname, pg_catalog.pg_get_function_identity_arguments(f.oid))
    FROM pg_catalog.pg_proc f
    JOIN pg_catalog.pg_namespace n ON n.oid = f.pronamespace
    WHERE n.nspname IN ('public', 'auth')
      AND EXISTS (SELECT FROM aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) a
                  WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')

    UNION ALL
    -- 6. Any privilege on a public/auth table or sequence granted to PUBLIC.
    SELECT 'relation privilege granted to PUBLIC', format('%I.%I', n.nspname, c.relname)
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'auth')
      AND EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee = 0)

    UNION ALL
    -- 7. Request-reachable roles owning anything (an owner can disable RLS, drop, alter).
    --    auth_service may own functions only (the SECURITY DEFINER ones).
    SELECT 'object owned by a request role', format('%s owned by %s', o.what, o.owner::regrole)
    FROM (
        SELECT c.oid::regclass::text, c.relowner, 'relation' FROM pg_catalog.pg_class c
        UNION ALL SELECT n.nspname::text, n.nspowner, 'schema' FROM pg_catalog.pg_namespace n
        UNION ALL SELECT f.oid::regprocedure::text, f.proowner, 'function' FROM pg_catalog.pg_proc f
    ) AS o(what, owner, kind)
    WHERE o.owner IN (SELECT oid FROM pg_catalog.pg_roles
                      WHERE rolname IN ('anon', 'authenticated', 'admin', 'authenticator', 'outbox_worker', 'auth_service'))
      AND NOT (o.kind = 'function' AND o.owner = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = 'auth_service'))
)
SELECT problem, object FROM problems ORDER BY problem, object;
