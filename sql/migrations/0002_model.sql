-- 0002: the linked model that correlate/ derives from the raw events.
--
-- Everything here is DERIVED: `cdlens recorrelate` truncates it and rebuilds it from `events`
-- alone, and incremental correlation (correlate/correlator.c) must reach the same rows whatever
-- the order events arrived in. Hence:
--   * keys are natural keys (subject ids, canonical purls, repository names, event source+id),
--     never serials, so two replays produce identical rows;
--   * entity rows are recomputed from ALL facts with their key, never patched in place;
--   * `seq` columns (arrival order) are pointers only; comparisons between replays leave them out.
--
-- Composite keys (a change within a repository, an event within a source) are written as a
-- JSON array text by cdlens_key2(), which is unambiguous whatever characters the parts hold.
--
-- When you add a column to an entity table: extend the recompute statement for it in
-- sql/correlate_store.c and the comparison list in tests/web/test_correlate_http.c.

CREATE FUNCTION cdlens_key2(a text, b text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_jsonb(ARRAY[a, b])::text;

-- A repository name in one canonical spelling: no scheme, no user, no ".git" or trailing
-- slashes, scp-like "git@host:org/repo" turned into "host/org/repo", lower case (the large
-- forges treat repository paths case-insensitively).
CREATE FUNCTION cdlens_repo_canon(name text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN nullif(lower(regexp_replace(regexp_replace(regexp_replace(btrim(name),
        '^[A-Za-z][A-Za-z0-9+.-]*://([^/@]*@)?', ''),
        '^[^/@:]+@([^/:]+):', '\1/'),
        '(\.git)?/*$', '')), '');

-- The key of a repository given as {id, source} (content.repository of change events, the
-- subject of repository events): the source joined with the id, unless the id already names
-- the host (a URL, an scp-like name, or a name that starts with the source).
CREATE FUNCTION cdlens_repo_key(id text, source text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN coalesce(source, '') = '' OR id ~ '^[A-Za-z][A-Za-z0-9+.-]*://|^[^/@:]+@[^/:]+:'
             OR starts_with(cdlens_repo_canon(id), cdlens_repo_canon(source) || '/')
            THEN cdlens_repo_canon(id)
        ELSE cdlens_repo_canon(rtrim(source, '/') || '/' || ltrim(id, '/'))
    END;

-- Where a kind of subject sits in the delivery flow; links point from lower to higher stage.
CREATE FUNCTION cdlens_stage(kind text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE kind
        WHEN 'repository' THEN 0 WHEN 'change' THEN 1 WHEN 'pipeline_run' THEN 2
        WHEN 'task_run' THEN 3 WHEN 'build' THEN 4 WHEN 'test_suite_run' THEN 5
        WHEN 'test_case_run' THEN 6 WHEN 'artifact' THEN 7 WHEN 'environment' THEN 8
        WHEN 'deployment' THEN 9 WHEN 'incident' THEN 10 ELSE 11 END;

-- Trust order of the rules that tie a change to an artifact or a deployment (lower wins):
-- explicit links, then chainId, then subject references (directly, or through the artifact).
CREATE FUNCTION cdlens_rule_rank(rule text) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE rule
        WHEN 'links' THEN 0 WHEN 'chain_id' THEN 1 WHEN 'change_reference' THEN 2
        WHEN 'artifact' THEN 3 ELSE 9 END;

-- Events waiting for the correlator. A statement trigger fills it in the inserting
-- transaction, so an event is queued exactly when it is committed.
CREATE TABLE correlate_queue (seq bigint PRIMARY KEY);

CREATE FUNCTION events_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO correlate_queue (seq) SELECT seq FROM new_events;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_enqueue AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_enqueue();

-- One row per correlated event: what the event says, in columns. Entity tables aggregate these.
CREATE TABLE facts (
    seq         bigint PRIMARY KEY,       -- events.seq (pointer only)
    ev_source   text COLLATE "C" NOT NULL,
    ev_id       text COLLATE "C" NOT NULL,
    kind        text NOT NULL,            -- change, build, artifact, deployment, ...
    key         text COLLATE "C" NOT NULL,
    predicate   text NOT NULL,
    ts          timestamptz NOT NULL,
    chain_id    text COLLATE "C",
    name        text,                     -- environment/pipeline/task/test/repository name
    url         text,
    outcome     text,
    detail      text,                     -- errors, reason or description
    repo        text COLLATE "C",         -- change: repository key
    repo_id     text COLLATE "C",         -- change: canonical repository id (for references)
    artifact    text COLLATE "C",         -- canonical purl named by artifactId
    environment text COLLATE "C",
    service     text COLLATE "C",
    parent      text COLLATE "C",         -- taskrun: pipelineRun id; testcaserun: testSuiteRun id
    change_id   text COLLATE "C",         -- artifact.packaged: content.change
    change_repo text COLLATE "C",         -- canonical name of content.change.source
    links       jsonb                     -- context.links
);
CREATE INDEX facts_kind_key ON facts (kind, key);
CREATE INDEX facts_chain ON facts (chain_id) WHERE chain_id IS NOT NULL;
CREATE INDEX facts_ev_id ON facts (ev_id);
CREATE INDEX facts_change_ref ON facts (change_id) WHERE change_id IS NOT NULL;

-- context.links, one row per link that names another event.
CREATE TABLE fact_links (
    seq        bigint NOT NULL,
    target_id  text COLLATE "C" NOT NULL,  -- contextId of the other event
    link_type  text NOT NULL,              -- PATH, END or RELATION
    link_kind  text,
    PRIMARY KEY (seq, target_id, link_type)
);
CREATE INDEX fact_links_target ON fact_links (target_id);

-- Events the correlator could not process (a bug, not bad input: ingest validated them);
-- logged, kept out of the queue so that the rest proceeds, retried by `cdlens recorrelate`.
CREATE TABLE correlate_failed (
    seq        bigint PRIMARY KEY,
    error      text NOT NULL,
    failed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE repositories (
    key         text COLLATE "C" PRIMARY KEY,
    name        text, url text,
    created_at  timestamptz, modified_at timestamptz, deleted_at timestamptz
);

CREATE TABLE changes (
    key          text COLLATE "C" PRIMARY KEY,   -- cdlens_key2(repo, id)
    repo         text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    repo_id      text COLLATE "C",
    description  text,
    created_at   timestamptz, updated_at timestamptz, reviewed_at timestamptz,
    merged_at    timestamptz, abandoned_at timestamptz,
    first_at     timestamptz NOT NULL            -- earliest created/updated/reviewed/merged
);
CREATE INDEX changes_id ON changes (id);
CREATE INDEX changes_repo_merged ON changes (repo, merged_at) WHERE merged_at IS NOT NULL;

CREATE TABLE builds (
    key         text COLLATE "C" PRIMARY KEY,
    artifact    text COLLATE "C",
    queued_at   timestamptz, started_at timestamptz, finished_at timestamptz
);
CREATE INDEX builds_artifact ON builds (artifact);

CREATE TABLE artifacts (
    key          text COLLATE "C" PRIMARY KEY,   -- canonical purl
    packaged_at  timestamptz, signed_at timestamptz, published_at timestamptz,
    deleted_at   timestamptz,
    change       text COLLATE "C",               -- the change it was built from (changes.key)
    change_rule  text
);
CREATE INDEX artifacts_change ON artifacts (change);

CREATE TABLE pipeline_runs (
    key         text COLLATE "C" PRIMARY KEY,
    name        text, url text, outcome text, errors text,
    queued_at   timestamptz, started_at timestamptz, finished_at timestamptz
);

CREATE TABLE task_runs (
    key          text COLLATE "C" PRIMARY KEY,
    name         text, url text, outcome text, errors text,
    pipeline_run text COLLATE "C",
    started_at   timestamptz, finished_at timestamptz
);
CREATE INDEX task_runs_pipeline_run ON task_runs (pipeline_run);

CREATE TABLE test_suite_runs (
    key          text COLLATE "C" PRIMARY KEY,
    name         text, environment text COLLATE "C", outcome text, reason text,
    queued_at    timestamptz, started_at timestamptz, finished_at timestamptz
);

CREATE TABLE test_case_runs (
    key            text COLLATE "C" PRIMARY KEY,
    name           text, environment text COLLATE "C", outcome text, reason text,
    test_suite_run text COLLATE "C",
    queued_at      timestamptz, started_at timestamptz, finished_at timestamptz,
    skipped_at     timestamptz
);
CREATE INDEX test_case_runs_suite ON test_case_runs (test_suite_run);

CREATE TABLE environments (
    key         text COLLATE "C" PRIMARY KEY,
    name        text, url text,
    created_at  timestamptz, modified_at timestamptz, deleted_at timestamptz
);

-- One row per service.deployed/upgraded/rolledback/removed event.
CREATE TABLE deployments (
    key          text COLLATE "C" PRIMARY KEY,   -- cdlens_key2(event source, event id)
    ev_source    text COLLATE "C" NOT NULL,
    ev_id        text COLLATE "C" NOT NULL,
    service      text COLLATE "C" NOT NULL,
    environment  text COLLATE "C",
    artifact     text COLLATE "C",
    kind         text NOT NULL CHECK (kind IN ('deployed', 'upgraded', 'rolledback', 'removed')),
    at           timestamptz NOT NULL
);
CREATE INDEX deployments_service_env ON deployments (service, environment, at);
CREATE INDEX deployments_env_at ON deployments (environment, at);
CREATE INDEX deployments_artifact ON deployments (artifact, at);
CREATE INDEX deployments_ev_id ON deployments (ev_id);

CREATE TABLE incidents (
    key          text COLLATE "C" PRIMARY KEY,
    description  text, ticket_url text,
    environment  text COLLATE "C", service text COLLATE "C", artifact text COLLATE "C",
    detected_at  timestamptz, reported_at timestamptz, resolved_at timestamptz,
    opened_at    timestamptz   -- least(detected_at, reported_at): what attribution uses
);
CREATE INDEX incidents_environment ON incidents (environment, opened_at);
CREATE INDEX incidents_artifact ON incidents (artifact, opened_at) WHERE environment IS NULL;

-- Every link the rules found, upstream -> downstream (change -> build -> artifact ->
-- deployment -> incident; pipeline run -> task run; test suite run -> test case run), with the
-- rule and its evidence (the referencing event, the chain id, the linking event, or for
-- commit_range the previous deployment that bounds the range).
CREATE TABLE edges (
    from_kind  text NOT NULL,
    from_key   text COLLATE "C" NOT NULL,
    to_kind    text NOT NULL,
    to_key     text COLLATE "C" NOT NULL,
    rule       text NOT NULL,
    evidence   text COLLATE "C" NOT NULL,
    -- "to" first: the correlator replaces a deployment's commit_range links by (to, rule)
    PRIMARY KEY (to_kind, to_key, rule, from_kind, from_key, evidence)
);
CREATE INDEX edges_from ON edges (from_kind, from_key);
CREATE INDEX edges_evidence ON edges (rule, evidence);

-- Which changes each deployment shipped, and by which rule: links, chain_id, artifact (the
-- deployed artifact was built from the change) or commit_range. `direct` marks the change(s)
-- that bound the next deployment's commit range.
CREATE TABLE deployment_changes (
    deployment text COLLATE "C" NOT NULL,
    change     text COLLATE "C" NOT NULL,
    rule       text NOT NULL,
    direct     boolean NOT NULL,
    evidence   text COLLATE "C",
    PRIMARY KEY (deployment, change, rule)
);
CREATE INDEX deployment_changes_change ON deployment_changes (change);

-- Each incident's deployment: the latest deployment in the incident's environment at or
-- before its first detected/reported time, of its artifact, else of its service, else of any
-- service (rule: artifact, service, environment).
CREATE TABLE incident_deployments (
    incident   text COLLATE "C" PRIMARY KEY,
    deployment text COLLATE "C" NOT NULL,
    rule       text NOT NULL
);
CREATE INDEX incident_deployments_deployment ON incident_deployments (deployment);
