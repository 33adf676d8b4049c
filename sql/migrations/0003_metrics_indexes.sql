-- 0003: indexes for the DORA queries (sql/metrics_store.c).
--
-- "The next production deployment of S in E" orders by (at, ev_source, ev_id); with those
-- columns in the index, the lookup reads one index entry instead of sorting the pair's tail.
DROP INDEX deployments_service_env;
CREATE INDEX deployments_service_env ON deployments (service, environment, at, ev_source, ev_id);
