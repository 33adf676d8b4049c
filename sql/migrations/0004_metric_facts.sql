-- 0004: per-deployment and per-change facts for the DORA figures, kept by the correlator.
--
-- Both are derived from the linked model (0002) and independent of configuration (which
-- environments are production is decided at query time), so they are rebuilt by
-- `cdlens recorrelate` like every other derived table and converge like them.

-- For each deployment (not removed) of S in E: the next deployment of S in E, whether it failed
-- (the next is a rollback, or an incident attributed to it was opened before the next), when
-- it was restored, and the open incident that makes it rework (docs/METRICS.md).
CREATE TABLE deployment_facts (
    deployment      text COLLATE "C" PRIMARY KEY,
    next            text COLLATE "C",
    next_kind       text,
    next_at         timestamptz,
    incidents       jsonb,          -- ids of attributed incidents opened before the next
    failed          boolean NOT NULL,
    restored_at     timestamptz,
    rework_incident text COLLATE "C"
);

-- For each change and each S in E that shipped it: the first such deployment and the best rule
-- that linked them; change_first_at is the change's earliest known time (NULL: never seen).
CREATE TABLE change_deployments (
    change          text COLLATE "C" NOT NULL,
    service         text COLLATE "C" NOT NULL,
    environment     text COLLATE "C" NOT NULL,
    first_at        timestamptz NOT NULL,
    deployment      text COLLATE "C" NOT NULL,
    rule            text NOT NULL,
    change_first_at timestamptz,
    PRIMARY KEY (change, service, environment)
);
CREATE INDEX change_deployments_env_at ON change_deployments (environment, first_at);
CREATE INDEX change_deployments_change_at ON change_deployments (change, first_at);

-- "Incidents open at time t": resolved after t, or not resolved at all. Both are few for a
-- recent t, whatever the history's length.
CREATE INDEX incidents_env_resolved ON incidents (environment, resolved_at);
CREATE INDEX incidents_env_unresolved ON incidents (environment, opened_at) WHERE resolved_at IS NULL;
