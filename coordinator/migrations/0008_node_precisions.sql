-- The precisions a node benchmarked a kernel path for (issue 13), as its registration
-- reports them: a comma-separated list in the protocol's order ("f32" or "f32,f16").
-- A part is leased only to nodes whose list holds its precision; nodes registered
-- before this column existed computed f32 only.
ALTER TABLE nodes ADD COLUMN precisions TEXT NOT NULL DEFAULT 'f32';
