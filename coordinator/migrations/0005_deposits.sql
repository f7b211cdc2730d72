-- Deposits (DESIGN §5): the token's `Transfer` logs to the treasury, followed with the
-- configured confirmations and credited to the sender's client balance exactly once.
-- The key (tx_hash, log_index) names one log on the chain: inserting it and crediting
-- it happen in one transaction, so a re-scan, a restart or a crash in between can
-- never credit a log twice. Transfers that cannot be attributed to a client (mints from
-- the zero address, the treasury paying itself, zero amounts) are recorded as
-- 'ignored' with the reason, never credited.
CREATE TABLE deposits (
    tx_hash         TEXT NOT NULL,           -- lowercase 0x-hex
    log_index       BIGINT NOT NULL,         -- the log's index in its block
    block           BIGINT NOT NULL,
    from_address    TEXT NOT NULL,           -- lowercase 0x-hex, the sender (credited)
    amount_gwei     BIGINT NOT NULL,
    amount_wei      BIGINT NOT NULL,
    status          TEXT NOT NULL,           -- 'credited' | 'ignored'
    reason          TEXT,                    -- why it was ignored
    created_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (tx_hash, log_index)
);
CREATE INDEX deposits_from ON deposits (from_address, block);

-- How far the deposit watcher has read, per chain, token and treasury (a new token or
-- treasury starts its own cursor). Every block below next_block has been scanned.
CREATE TABLE deposit_cursor (
    chain_id        BIGINT NOT NULL,
    token           TEXT NOT NULL,
    treasury        TEXT NOT NULL,
    next_block      BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    PRIMARY KEY (chain_id, token, treasury)
);
