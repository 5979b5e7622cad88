-- Posts: markdown bodies by their authors; published ones are public, drafts are the
-- author's (and admin's) only.

CREATE TABLE public.posts (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id    uuid        NOT NULL REFERENCES public.profiles (id) ON DELETE CASCADE,
    slug         text        NOT NULL,
    title        text        NOT NULL,
    body         text        NOT NULL,
    status       text        NOT NULL DEFAULT 'draft',
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT posts_slug_key UNIQUE (slug),
    CONSTRAINT posts_slug_check CHECK (char_length(slug) <= 128 AND slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    CONSTRAINT posts_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT posts_body_check CHECK (char_length(body) <= 100000),
    CONSTRAINT posts_status_check CHECK (status IN ('draft', 'published')),
    CONSTRAINT posts_published_at_check CHECK ((status = 'published') = (published_at IS NOT NULL))
);
CREATE INDEX posts_author_id_idx ON public.posts (author_id);
CREATE INDEX posts_created_at_idx ON public.posts (created_at DESC);
-- Serves the public listing and the `status = 'published'` branch of the select policy.
CREATE INDEX posts_published_at_idx ON public.posts (published_at DESC) WHERE status = 'published';

CREATE TRIGGER posts_set_updated_at
    BEFORE UPDATE ON public.posts
    FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- published_at follows status: stamped when a post becomes published, cleared when it goes
-- back to draft. Authors cannot write it (no column grant); admin may backdate it.
CREATE FUNCTION public.posts_set_published_at() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NEW.status = 'published' THEN
        NEW.published_at := coalesce(NEW.published_at, now());
    ELSE
        NEW.published_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.posts_set_published_at() FROM PUBLIC;

CREATE TRIGGER posts_set_published_at
    BEFORE INSERT OR UPDATE ON public.posts
    FOR EACH ROW EXECUTE FUNCTION public.posts_set_published_at();

ALTER TABLE public.posts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- author_id is not updatable by authors at all (the grant is the first gate; the
-- WITH CHECK below would stop a reassignment anyway).
GRANT SELECT ON public.posts TO anon, authenticated, admin;
GRANT INSERT (author_id, slug, title, body, status) ON public.posts TO authenticated;
GRANT UPDATE (slug, title, body, status) ON public.posts TO authenticated;
GRANT DELETE ON public.posts TO authenticated;
GRANT INSERT (author_id, slug, title, body, status, published_at) ON public.posts TO admin;
GRANT UPDATE (author_id, slug, title, body, status, published_at) ON public.posts TO admin;
GRANT DELETE ON public.posts TO admin;

CREATE POLICY posts_select_published ON public.posts
    FOR SELECT TO anon, authenticated
    USING (status = 'published');
CREATE POLICY posts_select_own ON public.posts
    FOR SELECT TO authenticated
    USING (author_id = (SELECT auth.uid()));
CREATE POLICY posts_insert_own ON public.posts
    FOR INSERT TO authenticated
    WITH CHECK (author_id = (SELECT auth.uid()));
CREATE POLICY posts_update_own ON public.posts
    FOR UPDATE TO authenticated
    USING (author_id = (SELECT auth.uid()))
    WITH CHECK (author_id = (SELECT auth.uid()));
CREATE POLICY posts_delete_own ON public.posts
    FOR DELETE TO authenticated
    USING (author_id = (SELECT auth.uid()));
CREATE POLICY posts_admin_all ON public.posts
    FOR ALL TO admin
    USING (true) WITH CHECK (true);
