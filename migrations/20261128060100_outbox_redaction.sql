-- Outbox rows kept their one-time links and codes (verify, reset, change-email) in plain text
-- for ever. Once a row is sent, the copy in the database is only something to steal; once it
-- is given up on (dead), nobody will receive it. Either way the payload's `link` and `code`
-- are removed, by the database, whoever marks the row: the worker still cannot write payloads
-- itself. What admins look at (kind, recipient, times, attempts, last error) is in columns
-- and stays. `redacted_at` says when something was removed: such a dead row cannot be
-- retried (the user asks for a new link instead).

ALTER TABLE public.outbox ADD COLUMN redacted_at timestamptz;
GRANT SELECT (redacted_at) ON public.outbox TO admin;

-- Every payload field holding a credential is named `link` or `code` (see EmailKind).
CREATE FUNCTION public.outbox_redact_delivered() RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF (NEW.sent_at IS NOT NULL AND OLD.sent_at IS NULL)
       OR (NEW.dead_at IS NOT NULL AND OLD.dead_at IS NULL) THEN
        IF NEW.payload ?| ARRAY['link', 'code'] THEN
            NEW.payload := NEW.payload - ARRAY['link', 'code'];
            NEW.redacted_at := now();
        END IF;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION public.outbox_redact_delivered() FROM PUBLIC;

CREATE TRIGGER outbox_redact_delivered
    BEFORE UPDATE OF sent_at, dead_at ON public.outbox
    FOR EACH ROW EXECUTE FUNCTION public.outbox_redact_delivered();

-- Rows sent or parked before this migration. The owner has no policy on the table, so RLS
-- is lifted for this one statement (all of it in the migration's transaction).
ALTER TABLE public.outbox NO FORCE ROW LEVEL SECURITY;
UPDATE public.outbox
   SET payload = payload - ARRAY['link', 'code'], redacted_at = now()
 WHERE (sent_at IS NOT NULL OR dead_at IS NOT NULL) AND payload ?| ARRAY['link', 'code'];
ALTER TABLE public.outbox FORCE ROW LEVEL SECURITY;
