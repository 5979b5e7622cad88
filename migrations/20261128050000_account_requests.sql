-- Requests whose answer must not reveal whether an account exists: "forgot password" and
-- "send the confirmation email again". The request only checks its limits and writes one
-- row, of the same shape for every address; the outbox worker later resolves the address,
-- mints the token, queues the email and deletes the row, or just deletes it when no account
-- (or no unconfirmed one) has that address. So the request costs the same either way, and
-- the addresses people typed are kept only until the worker's next round.

CREATE TABLE auth.account_requests (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text        NOT NULL,
    email      text        NOT NULL,
    ip         inet,
    user_agent text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_requests_kind_check CHECK (kind IN ('reset_password', 'resend_verification')),
    CONSTRAINT account_requests_email_check CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT account_requests_user_agent_check CHECK (char_length(user_agent) <= 1024)
);

ALTER TABLE auth.account_requests ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- Only the auth subsystem: the request inserts, the worker (as auth_service) takes rows with
-- FOR UPDATE SKIP LOCKED (so several instances never wait on each other) and deletes them.
-- Locking needs UPDATE on some column: created_at only, which nothing updates.
GRANT SELECT, INSERT (kind, email, ip, user_agent), DELETE ON auth.account_requests TO auth_service;
GRANT UPDATE (created_at) ON auth.account_requests TO auth_service;
CREATE POLICY account_requests_auth_service_all ON auth.account_requests
    FOR ALL TO auth_service USING (true) WITH CHECK (true);
