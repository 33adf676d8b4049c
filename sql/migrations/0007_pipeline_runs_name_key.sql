-- 0007: the per-pipeline "last outcome" of GET /api/v1/pipeline-runs (sql/pipeline_store.c)
-- orders one pipeline's runs by (first time, key) descending and takes the first with an
-- outcome. 0006's name index lacked the key, so the planner walked the whole window's index
-- backwards filtering on the name instead: a rarely-run pipeline cost a scan of the window.
-- With the key in the index it is one backward range scan of that pipeline's runs.

DROP INDEX pipeline_runs_name_first_at;
CREATE INDEX pipeline_runs_name_first_at
    ON pipeline_runs (name, (coalesce(queued_at, started_at, finished_at)), key);
