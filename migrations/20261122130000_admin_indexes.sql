-- Indexes for the admin pages: user search (substring of email or username, any case), the
-- user list's keyset pagination, and the outbox's dead letters. Indexes only: no grants or
-- policies change.

-- Trigram indexes serve `lower(x) LIKE '%…%'` (prefix and substring alike). pg_trgm ships
-- with Postgres (contrib) and is a trusted extension, so the database owner may create it.
-- It lives in a schema of its own, outside `public` and `auth`: nobody gets USAGE on it,
-- and index scans need no privilege on an operator class, so the request roles use the
-- indexes without being able to call the extension's functions.
CREATE SCHEMA IF NOT EXISTS extensions;
REVOKE ALL ON SCHEMA extensions FROM PUBLIC;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA extensions;

CREATE INDEX users_email_trgm_idx ON auth.users
    USING gin (lower(email) extensions.gin_trgm_ops);
CREATE INDEX profiles_username_trgm_idx ON public.profiles
    USING gin (lower(username) extensions.gin_trgm_ops);

-- The user list, newest first: `ORDER BY created_at DESC, id DESC` with a
-- `(created_at, id) < (…)` cursor.
CREATE INDEX users_created_at_id_idx ON auth.users (created_at DESC, id DESC);

-- Dead letters, most recently parked first. Sent rows pile up forever (nobody deletes), so
-- the dead ones get a small partial index rather than a scan of the whole table. The
-- pending list already has `outbox_due_idx`.
CREATE INDEX outbox_dead_idx ON public.outbox (dead_at DESC, id DESC)
    WHERE dead_at IS NOT NULL AND sent_at IS NULL;
