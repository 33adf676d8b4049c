-- 0005: the DORA facts the API reads for the default view (all production environments),
-- precomputed by the correlator so /api/v1/dora answers from narrow index ranges.
--
-- Unlike 0004, these depend on configuration: which environments are production
-- (--production-env). The correlator records the pattern it used in production_pattern and
-- the environments it matched in production_environments; when it starts with another
-- pattern it rebuilds both tables below from change_deployments. The API uses them only
-- when its own pattern equals the recorded one (else it reads change_deployments, slower,
-- with the same result); see docs/METRICS.md and sql/metrics_store.c.

CREATE TABLE production_pattern (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pattern  text NOT NULL
);

CREATE TABLE production_environments (
    environment text COLLATE "C" PRIMARY KEY
);

-- Each change's first production deployment over all services and production environments
-- (ties: the smaller deployment key, as the API's general query breaks them).
CREATE TABLE change_production (
    change          text COLLATE "C" PRIMARY KEY,
    service         text COLLATE "C" NOT NULL,
    environment     text COLLATE "C" NOT NULL,
    first_at        timestamptz NOT NULL,
    deployment      text COLLATE "C" NOT NULL,
    rule            text NOT NULL,
    change_first_at timestamptz
);
CREATE INDEX change_production_at ON change_production (first_at) INCLUDE (change_first_at);

-- Each change's first production deployment per service (for ?service= and
-- /api/v1/dora/services, which count a change for S at its first production deployment of S).
CREATE TABLE change_service_production (
    change          text COLLATE "C" NOT NULL,
    service         text COLLATE "C" NOT NULL,
    environment     text COLLATE "C" NOT NULL,
    first_at        timestamptz NOT NULL,
    deployment      text COLLATE "C" NOT NULL,
    rule            text NOT NULL,
    change_first_at timestamptz,
    PRIMARY KEY (change, service)
);
CREATE INDEX change_service_production_at ON change_service_production (first_at)
    INCLUDE (service, change_first_at);
CREATE INDEX change_service_production_service_at ON change_service_production
    (service, first_at) INCLUDE (change_first_at);

-- The deployment's own columns next to its facts: the figures read one narrow index range
-- of deployment_facts instead of joining deployments row by row.
ALTER TABLE deployment_facts
    ADD COLUMN service     text COLLATE "C",
    ADD COLUMN environment text COLLATE "C",
    ADD COLUMN kind        text,
    ADD COLUMN at          timestamptz;
UPDATE deployment_facts f SET service = d.service, environment = d.environment,
    kind = d.kind, at = d.at
  FROM deployments d WHERE d.key = f.deployment;
DELETE FROM deployment_facts WHERE at IS NULL;   -- a fact without its deployment: none expected
ALTER TABLE deployment_facts
    ALTER COLUMN service SET NOT NULL,
    ALTER COLUMN environment SET NOT NULL,
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN at SET NOT NULL;
CREATE INDEX deployment_facts_env_at ON deployment_facts (environment, at)
    INCLUDE (service, kind, failed, restored_at, rework_incident);
