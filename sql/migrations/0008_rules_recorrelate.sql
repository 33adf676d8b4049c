-- 0008: the correlator's rules changed (docs/METRICS.md): a failed deployment with incidents
-- is restored when the last of them is resolved, an incident naming an artifact never
-- deployed in its environment is attributed by its service, and a resolution stamped before
-- the detection counts as at the detection. Rows derived by the old rules would stay as they
-- were, so the linked model (all derived from `events`) is emptied and every event queued
-- again: the correlator rebuilds it with the new rules, as `cdlens recorrelate` does, in the
-- background (/readyz shows the progress; the figures fill in as it goes). On a new database
-- this changes nothing. The correlator's lock keeps a running correlator of another server
-- from writing between the two statements.

SELECT pg_advisory_xact_lock(hashtext('cdlens.correlate'));

TRUNCATE facts, fact_links, repositories, changes, builds, artifacts, pipeline_runs,
    task_runs, test_suite_runs, test_case_runs, environments, deployments, incidents,
    edges, deployment_changes, incident_deployments, correlate_failed,
    deployment_facts, change_deployments, production_pattern, production_environments,
    change_production, change_service_production;

INSERT INTO correlate_queue (seq) SELECT seq FROM events ON CONFLICT DO NOTHING;
