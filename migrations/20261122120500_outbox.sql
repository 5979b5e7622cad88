-- The transactional outbox: emails are rows written in the same transaction as the change
-- that needs them, delivered later by the worker (claim with FOR UPDATE SKIP LOCKED).

CREATE TABLE public.outbox (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL,
    recipient       text        NOT NULL,
    payload         jsonb       NOT NULL,   -- may carry one-time links: a credential until sent
    idempotency_key text        NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    dead_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT outbox_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT outbox_kind_check CHECK (char_length(kind) BETWEEN 1 AND 64),
    CONSTRAINT outbox_recipient_check CHECK (char_length(recipient) BETWEEN 3 AND 254),
    CONSTRAINT outbox_payload_check CHECK (jsonb_typeof(payload) = 'object'),
    CONSTRAINT outbox_attempts_check CHECK (attempts >= 0)
);
-- The worker's queue: only rows still to deliver.
CREATE INDEX outbox_due_idx ON public.outbox (next_attempt_at)
    WHERE sent_at IS NULL AND dead_at IS NULL;

ALTER TABLE public.outbox ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- auth_service only enqueues. It has no SELECT, so: no RETURNING, and idempotent inserts
-- use ON CONFLICT DO NOTHING *without* a conflict target (naming the arbiter column needs
-- SELECT on it, and then the SELECT policies would apply to the new row). The worker reads
-- and updates delivery state. admin sees the queue without payloads (they hold live
-- reset/verify links) and can revive a dead row. Nobody deletes.
GRANT INSERT (kind, recipient, payload, idempotency_key, next_attempt_at) ON public.outbox TO auth_service;
GRANT SELECT ON public.outbox TO outbox_worker;
GRANT UPDATE (attempts, next_attempt_at, last_error, sent_at, dead_at) ON public.outbox TO outbox_worker;
GRANT SELECT (id, kind, recipient, idempotency_key, attempts, next_attempt_at, last_error, sent_at, dead_at, created_at)
    ON public.outbox TO admin;
GRANT UPDATE (attempts, next_attempt_at, last_error, dead_at) ON public.outbox TO admin;

CREATE POLICY outbox_auth_service_insert ON public.outbox
    FOR INSERT TO auth_service WITH CHECK (true);
CREATE POLICY outbox_worker_select ON public.outbox
    FOR SELECT TO outbox_worker USING (true);
CREATE POLICY outbox_worker_update ON public.outbox
    FOR UPDATE TO outbox_worker USING (true) WITH CHECK (true);
CREATE POLICY outbox_admin_select ON public.outbox
    FOR SELECT TO admin USING (true);
CREATE POLICY outbox_admin_update ON public.outbox
    FOR UPDATE TO admin USING (true) WITH CHECK (true);
