-- Embeddings parts (issue 15): a part of an embeddings job carries its batch (the
-- token ids the node gets, canaries included) and the secret layout that says which
-- row is which client text and which a canary.
ALTER TABLE jobs ADD COLUMN spec_json TEXT;
ALTER TABLE jobs ADD COLUMN layout_json TEXT;
