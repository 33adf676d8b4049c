-- 0001: the immutable raw-events table.
-- Every accepted CDEvent is kept exactly as received (raw, jsonb) with the context and subject
-- fields extracted into columns for indexing. Rows are never updated or deleted: derived tables
-- are rebuilt from this one, so a trigger refuses UPDATE and DELETE.

CREATE TABLE events (
    seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source         text        COLLATE "C" NOT NULL,  -- "C": ids compare as bytes, which is
    id             text        COLLATE "C" NOT NULL,  -- both correct and cheapest to index
    type           text        NOT NULL,
    subject        text        NOT NULL,   -- e.g. 'service' (type's subject part)
    predicate      text        NOT NULL,   -- e.g. 'deployed'
    type_version   text        NOT NULL,   -- e.g. '0.3.0'
    spec_version   text        NOT NULL,   -- context.specversion or context.version
    subject_id     text        NOT NULL,
    subject_source text,                   -- NULL when the event has no subject.source
    ts             timestamptz NOT NULL,   -- context.timestamp; original offset stays in raw
    chain_id       text,                   -- context.chainId or context.chain_id
    mode           text        NOT NULL CHECK (mode IN ('binary', 'structured', 'batch', 'bare')),
    producer       text,                   -- name of the ingest token that sent it
    received_at    timestamptz NOT NULL DEFAULT now(),
    raw            jsonb       NOT NULL,
    CONSTRAINT events_source_id_key UNIQUE (source, id)
);

-- Deliberately no other indexes: every index costs ingest throughput, and queries read the
-- derived tables (correlate/), which carry their own. The primary key (seq) is how the
-- correlator follows new events; (source, id) is the duplicate check.

CREATE FUNCTION events_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_no_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_immutable();
