-- Withdrawals (DESIGN §5): the payout outbox. A row and its ledger debit are written in
-- one transaction; the payout transaction (treasury nonce, hash, signed raw bytes) is
-- recorded on the row BEFORE it is broadcast, so a crash at any point is recovered by
-- rebroadcasting the same bytes and asking the chain for the receipt.
--
-- status: 'queued'    debited, no transaction yet (shown as queued)
--         'signed'    transaction recorded, maybe not yet sent (shown as queued)
--         'submitted' broadcast; waiting for the receipt
--         'confirmed' in block `block` (devnet rows: settled in the ledger only)
--         'failed'    not paid; `reason` says why; refunded by ledger row 'refund:<id>'
CREATE TABLE withdrawals (
    id              TEXT PRIMARY KEY,
    account         TEXT NOT NULL,           -- lowercase 0x-hex, the signer
    nonce           BIGINT NOT NULL,         -- the owner's nonce: paid at most once
    to_address      TEXT NOT NULL,           -- lowercase 0x-hex
    amount_gwei     BIGINT NOT NULL,
    amount_wei      BIGINT NOT NULL,
    chain_id        BIGINT NOT NULL,
    signature       TEXT NOT NULL,           -- the owner's EIP-712 signature
    devnet          BIGINT NOT NULL,         -- 1: ledger only, no chain
    status          TEXT NOT NULL,
    treasury_nonce  BIGINT,
    tx_hash         TEXT,
    raw_tx          TEXT,                    -- 0x-hex EIP-2718 bytes, signed by the treasury
    block           BIGINT,
    reason          TEXT,
    created_at_ms   BIGINT NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    UNIQUE (account, nonce)
);
CREATE INDEX withdrawals_status ON withdrawals (status, created_at_ms);
CREATE INDEX withdrawals_account ON withdrawals (account, created_at_ms);
CREATE UNIQUE INDEX withdrawals_treasury_nonce ON withdrawals (treasury_nonce);
