-- The demand side (issue 14): clients, their API keys, content-addressed input blobs,
-- client jobs, and the ledger accounts that carry their money. Portable SQL as in 0001.
--
-- Ledger accounts (the `ledger.account` column; every movement between two accounts
-- is a pair of rows that sum to zero, written in one transaction):
--   '0x…'            a node's earnings (as before)
--   'client:0x…'     a client's available balance
--   'escrow:<id>'    what is held for client job <id> (or calibration job <id>)
--   'fees'           the operator's fee account
--   'bootstrap'      the operator's calibration budget (counted as a client balance)
-- Rows that bring tokens in have kind 'deposit' (chain deposits, faucet grants, the
-- bootstrap budget); kind 'credit' rows are rewards minted before escrow existed.
-- Rows that take tokens out are 'withdrawal' (and 'refund' when one fails). So
-- deposits − withdrawals = Σ clients + Σ escrow + Σ nodes + fees (GET /v1/network).

CREATE TABLE clients (
    address        TEXT PRIMARY KEY,          -- lowercase 0x-hex
    created_at_ms  BIGINT NOT NULL
);

-- API keys: only the SHA-256 of the key is stored; the key is shown once.
CREATE TABLE api_keys (
    id               TEXT PRIMARY KEY,
    client           TEXT NOT NULL REFERENCES clients (address),
    key_sha256       TEXT NOT NULL UNIQUE,    -- lowercase hex of SHA-256(key)
    prefix           TEXT NOT NULL,           -- the key's first 8 characters, to recognise it
    label            TEXT NOT NULL,
    limit_gwei       BIGINT,                  -- spending limit (NULL: none)
    limit_wei        BIGINT,
    expires_at_ms    BIGINT,
    created_at_ms    BIGINT NOT NULL,
    last_used_at_ms  BIGINT,
    revoked_at_ms    BIGINT
);
CREATE INDEX api_keys_client ON api_keys (client, created_at_ms);

-- Input blobs (.npy matrices). The bytes live in the data folder under
-- blobs/<sha256>, never in the database; a blob no unfinished job refers to is
-- deleted once it is older than the grace period.
CREATE TABLE blobs (
    sha256         TEXT PRIMARY KEY,
    size           BIGINT NOT NULL,
    dtype          TEXT NOT NULL,             -- 'f32' | 'f16'
    rows           BIGINT NOT NULL,
    cols           BIGINT NOT NULL,
    uploader       TEXT NOT NULL,             -- lowercase 0x-hex
    created_at_ms  BIGINT NOT NULL
);

-- A client's job. Its escrow is the ledger account 'escrow:<id>'. It is cut into
-- parts (rows of `jobs`, below) when nodes ask for work, each sized to the node.
CREATE TABLE client_jobs (
    id               TEXT PRIMARY KEY,
    client           TEXT NOT NULL REFERENCES clients (address),
    api_key_id       TEXT REFERENCES api_keys (id),   -- NULL: submitted with a signature
    kind             TEXT NOT NULL,           -- 'matmul' | 'embeddings'
    a_sha256         TEXT,
    b_sha256         TEXT,
    m                BIGINT NOT NULL DEFAULT 0,
    n                BIGINT NOT NULL DEFAULT 0,
    k                BIGINT NOT NULL DEFAULT 0,
    precision        TEXT NOT NULL DEFAULT 'f32',
    model            TEXT,
    input_json       TEXT,                    -- embeddings: the texts, a JSON array
    total_units      BIGINT NOT NULL,         -- rows of C / texts
    next_unit        BIGINT NOT NULL DEFAULT 0,   -- first unit not yet cut into a part
    price_gwei       BIGINT NOT NULL,         -- the quote, held in escrow
    price_wei        BIGINT NOT NULL,
    max_price_gwei   BIGINT NOT NULL,
    max_price_wei    BIGINT NOT NULL,
    refunded_gwei    BIGINT NOT NULL DEFAULT 0,
    refunded_wei     BIGINT NOT NULL DEFAULT 0,
    status           TEXT NOT NULL,           -- 'queued' | 'running' | 'done' | 'cancelled' | 'expired' | 'failed'
    reason           TEXT,
    created_at_ms    BIGINT NOT NULL,
    expires_at_ms    BIGINT NOT NULL,
    finished_at_ms   BIGINT
);
CREATE INDEX client_jobs_client ON client_jobs (client, created_at_ms);
CREATE INDEX client_jobs_status ON client_jobs (status, created_at_ms);

-- A row of `jobs` is now one leasable part: calibration work (origin 'calibration',
-- seeded as before) or a block of a client job's rows (origin 'client':
-- rows row_start..row_start+m of client job `client_job_id`). `price` is what its
-- verification releases from escrow (the node's reward + the operator's fee).
-- Leases, expiry, standing and history keep working on it unchanged.
ALTER TABLE jobs ADD COLUMN origin TEXT NOT NULL DEFAULT 'calibration';
ALTER TABLE jobs ADD COLUMN client_job_id TEXT REFERENCES client_jobs (id);
ALTER TABLE jobs ADD COLUMN row_start BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN price_gwei BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN price_wei BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_client_job ON jobs (client_job_id, row_start);
