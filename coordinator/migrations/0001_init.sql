-- Idlewatt coordinator schema, v1. Portable SQL (SQLite and PostgreSQL): TEXT ids,
-- BIGINT unix milliseconds, no autoincrement, no triggers.
--
-- Money: an amount of base units (18 decimals) is stored as two BIGINT limbs,
-- amount = gwei * 10^9 + wei with 0 <= |wei| < 10^9 and both limbs of the amount's
-- sign. SUM over each limb is exact (no float), and cannot overflow BIGINT before
-- 9.2 * 10^9 tokens or 9.2 * 10^9 rows in one sum.

CREATE TABLE nodes (
    address           TEXT PRIMARY KEY,      -- lowercase 0x-hex
    adapter           TEXT NOT NULL,
    backend           TEXT NOT NULL,
    device_type       TEXT NOT NULL,
    max_buffer_bytes  BIGINT NOT NULL,
    benchmark_gflops  DOUBLE PRECISION NOT NULL,
    app_version       TEXT NOT NULL,
    registered_at_ms  BIGINT NOT NULL,
    last_seen_ms      BIGINT NOT NULL
);
CREATE INDEX nodes_last_seen ON nodes (last_seen_ms);

-- A job is created when a node asks for work and goes back to 'open' when its
-- lease expires, so the next node that fits gets it.
CREATE TABLE jobs (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,            -- 'matmul'
    m              BIGINT NOT NULL,
    n              BIGINT NOT NULL,
    k              BIGINT NOT NULL,
    seed           BIGINT NOT NULL,
    reward_gwei    BIGINT NOT NULL,
    reward_wei     BIGINT NOT NULL,
    status         TEXT NOT NULL,            -- 'open' | 'leased' | 'done'
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX jobs_status ON jobs (status, created_at_ms);

CREATE TABLE leases (
    id               TEXT PRIMARY KEY,
    job_id           TEXT NOT NULL REFERENCES jobs (id),
    node             TEXT NOT NULL REFERENCES nodes (address),
    issued_at_ms     BIGINT NOT NULL,
    deadline_ms      BIGINT NOT NULL,
    status           TEXT NOT NULL,          -- 'open' | 'verified' | 'rejected' | 'expired'
    result_sha256    TEXT,                   -- the judged C's digest
    reason           TEXT,                   -- why it was rejected
    finished_at_ms   BIGINT
);
CREATE INDEX leases_node_status ON leases (node, status, finished_at_ms);
CREATE INDEX leases_status_deadline ON leases (status, deadline_ms);
CREATE INDEX leases_node_issued ON leases (node, issued_at_ms);

-- Append-only: rows are inserted, never updated or deleted. Balances are SUMs.
-- A credit's id is 'credit:<lease id>', so a lease can never be credited twice.
CREATE TABLE ledger (
    id             TEXT PRIMARY KEY,
    account        TEXT NOT NULL,
    kind           TEXT NOT NULL,            -- 'credit' | 'debit'
    amount_gwei    BIGINT NOT NULL,          -- negative for debits
    amount_wei     BIGINT NOT NULL,
    lease_id       TEXT,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX ledger_account ON ledger (account, created_at_ms);

-- Nonces of signed requests, kept until their timestamp is too old to be accepted.
CREATE TABLE seen_nonces (
    address        TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (address, nonce)
);
CREATE INDEX seen_nonces_expiry ON seen_nonces (expires_at_ms);
