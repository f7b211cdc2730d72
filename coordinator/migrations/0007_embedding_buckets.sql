-- Embeddings batches by length bucket (issue 15): a job's texts are grouped once into
-- batches of similar token length (its plan: a JSON list of batches, each a list of
-- input indices), and each part records which inputs its rows are, so the result is
-- put back in request order whatever the batches were.
ALTER TABLE client_jobs ADD COLUMN plan_json TEXT;
ALTER TABLE jobs ADD COLUMN rows_json TEXT;
