-- 0006: indexes for GET /api/v1/pipeline-runs (sql/pipeline_store.c).
--
-- A pipeline run belongs to a window by its first known time, coalesce(queued_at,
-- started_at, finished_at) (every run has one: its row exists because one of its queued,
-- started or finished events did), and the list is that time descending, then key. An index
-- on exactly that expression serves the window's range, its order and its LIMIT; the
-- statements must spell the expression the same way for the planner to match it.
-- The second index serves the `pipeline` filter (run name) over the same range.

CREATE INDEX pipeline_runs_first_at
    ON pipeline_runs ((coalesce(queued_at, started_at, finished_at)), key);
CREATE INDEX pipeline_runs_name_first_at
    ON pipeline_runs (name, (coalesce(queued_at, started_at, finished_at)));
