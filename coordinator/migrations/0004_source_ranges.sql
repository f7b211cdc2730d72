-- Defences against cheap identities (issue 11): where a node registered from (its
-- source range: IPv4 /24 or IPv6 /64), and for each lease the range and whether its
-- node was on probation when it was issued, so limits per range and the share of
-- work held by nodes on probation are single indexed counts.
-- Lease status gains 'released': the node gave the lease back; its job reopened.
ALTER TABLE nodes ADD COLUMN source_range TEXT NOT NULL DEFAULT '';
ALTER TABLE leases ADD COLUMN source_range TEXT NOT NULL DEFAULT '';
ALTER TABLE leases ADD COLUMN probation BIGINT NOT NULL DEFAULT 0;
CREATE INDEX nodes_registered ON nodes (registered_at_ms);
CREATE INDEX nodes_range_registered ON nodes (source_range, registered_at_ms);
CREATE INDEX leases_range_status ON leases (source_range, status);
CREATE INDEX leases_probation_status ON leases (probation, status);
