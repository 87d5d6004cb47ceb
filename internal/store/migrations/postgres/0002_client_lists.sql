-- Lists are per client (newest first): an index that serves them.
CREATE INDEX measurements_client_created_at ON measurements (client_id, created_at);
