#ifndef CORE_LOG_H
#define CORE_LOG_H
/*
 * Leveled logging, one write(2) per line so lines from threads never interleave
 * (practice 17). Lines look like: `2026-11-23T10:00:00.123Z info req=ab12 event stored id=...`.
 * Use key=value pairs after a short lowercase message.
 * Threads: log_set_level() is called once before threads start; the rest is thread-safe.
 */
enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_level;

/* Parse "error", "warn", "info" or "debug"; returns -1 when unknown. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
__attribute__((format(printf, 2, 3))) void log_write(enum log_level level, const char *fmt, ...);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) do { if (log_level >= LOG_WARN) log_write(LOG_WARN, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_level >= LOG_INFO) log_write(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) do { if (log_level >= LOG_DEBUG) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
