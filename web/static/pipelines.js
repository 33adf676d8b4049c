/*
 * Pipeline runs (/pipelines): a Gantt timeline of one pipeline run and its task runs (queued
 * time and running time as separate bars, coloured by outcome), the runs' durations over the
 * window, a summary per pipeline, and the list of recent runs (select one to draw its Gantt
 * chart; the choice is kept in the URL as run= and run_source=). Reads GET
 * /api/v1/pipeline-runs (the page's window; pipeline= filters, several allowed) and
 * /api/v1/pipeline-runs/run for the chosen run (by default the newest).
 */
'use strict';

(() => {
  const {el, clear, filterQuery, api, duration, time, name, frame, filterForm, live, emptyState,
         chart, params, safeUrl} = cdlens;

  frame('Pipeline runs');
  const main = document.getElementById('main');
  const q = filterQuery({limit: '200'});
  q.delete('service');
  q.delete('environment');
  /* the Pipelines choices: every pipeline of the window, whichever the URL chose (the summary
   * covers every run of the window, so one listed run is enough) */
  const allPipelines = () => {
    const o = new URLSearchParams(q);
    o.set('limit', '1');
    o.delete('pipeline');
    return api('/api/v1/pipeline-runs', o).then(l => ({pipeline: l.pipelines.map(p => p.pipeline).filter(Boolean)}));
  };
  main.before(filterForm({more: [['pipeline', 'Pipelines']], options: allPipelines}));
  for (const p of params.getAll('pipeline')) if (p) q.append('pipeline', p);
  const csvHref = () => {
    const c = new URLSearchParams(q);
    c.set('limit', '1000'); /* the API's most */
    c.set('format', 'csv');
    return '/api/v1/pipeline-runs?' + c;
  };

  const QUEUED = '#848ea0', RUNNING = '#2563eb', GANTT_MAX_HEIGHT = 640;
  const outcomeColour = o => ({success: '#059669', failure: '#dc2626', error: '#b91c1c',
                               cancel: '#6b7280', cancelled: '#6b7280', canceled: '#6b7280'}[o] || RUNNING);
  const outcomeText = r => r.outcome || (r.finished_at ? 'unknown' : r.started_at ? 'running' : 'queued');
  const ms = iso => (iso ? Date.parse(iso) : null);

  /* The run to draw: run= and run_source= from the URL (a trace links a run that way, in any
   * window), else the newest run listed. */
  function chosen(runs) {
    const id = params.get('run'), source = params.get('run_source');
    if (id && source) return {id, source};
    return runs.find(r => r.id === id) || runs[0] || null;
  }
  const same = (a, b) => a && b && a.id === b.id; /* a run's key is its id (docs/CORRELATION.md) */

  function runHref(r) {
    const u = new URLSearchParams(window.location.search);
    u.set('run', r.id);
    u.set('run_source', r.source);
    return window.location.pathname + '?' + u.toString();
  }

  /* Gantt: one row for the run (queued, then running), one per task run (running). Bars are
   * floating [start, end]; an end not yet known is drawn to now ("queued" or "running"). The
   * chart scrolls inside its box past GANTT_MAX_HEIGHT pixels. */
  function gantt(detail) {
    const run = detail.run, tasks = detail.task_runs;
    const now = Date.now();
    const end = x => ms(x.finished_at) || now;
    const labels = [run.pipeline || run.id, ...tasks.map(t => t.task || t.id)];
    const queued = [run.queued_at ? [ms(run.queued_at), ms(run.started_at) || ms(run.finished_at) || now] : null,
                    ...tasks.map(() => null)];
    const rows = [run, ...tasks];
    const running = rows.map(x => (x.started_at ? [ms(x.started_at), end(x)] : null));
    const spans = queued.concat(running).filter(Boolean).flat();
    const pad = spans.length ? Math.max((Math.max(...spans) - Math.min(...spans)) * 0.02, 1000) : 0;
    const canvas = el('canvas', {id: 'c-gantt', role: 'img',
      'aria-label': 'Gantt chart of the pipeline run and its task runs; the table below lists the same times'});
    requestAnimationFrame(() => chart(canvas, {type: 'bar', data: {labels, datasets: [
      {label: 'queued', data: queued, backgroundColor: QUEUED, borderSkipped: false, grouped: false},
      {label: 'running (colour: outcome)', data: running, borderSkipped: false, grouped: false,
       backgroundColor: rows.map(x => outcomeColour(x.outcome))},
    ]}, options: {
      indexAxis: 'y',
      scales: {
        /* bars float from start to end: the axis spans the run, not from 1970 */
        x: {type: 'linear', beginAtZero: false,
            min: spans.length ? Math.min(...spans) - pad : undefined,
            max: spans.length ? Math.max(...spans) + pad : undefined,
            ticks: {callback: v => new Date(v).toISOString().slice(11, 19),
                    maxRotation: 0, autoSkipPadding: 16}},
      },
      plugins: {tooltip: {callbacks: {label: c => {
        const x = rows[c.dataIndex], v = c.raw;
        const what = c.datasetIndex === 0 ? 'queued' : outcomeText(x);
        return `${what}: ${duration((v[1] - v[0]) / 1000)}`;
      }}}},
    }}));
    const inner = el('div', {class: 'canvas-box'}, canvas);
    inner.style.height = Math.max(160, 48 + 24 * labels.length) + 'px';
    const box = el('div', {class: 'scroll-box'}, inner);
    box.style.maxHeight = GANTT_MAX_HEIGHT + 'px';
    const table = el('table', {id: 'tasks'},
      el('caption', {}, tasks.length < run.task_runs
        ? `The run and the first ${tasks.length} of its ${run.task_runs} task runs, in start order`
        : 'The run and its task runs, in start order'),
      el('thead', {}, el('tr', {}, ['', 'Started', 'Finished', 'Queued', 'Running', 'Outcome', 'Errors']
        .map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, rows.map((x, k) => el('tr', {class: /fail|error/.test(x.outcome || '') ? 'failed' : null},
        el('th', {scope: 'row'}, name(k ? x.task || x.id : 'run ' + (run.pipeline || run.id))),
        el('td', {}, time(x.started_at)), el('td', {}, time(x.finished_at)),
        el('td', {}, k ? '' : duration(x.queued_seconds)),
        el('td', {}, duration(k ? x.duration_seconds : x.running_seconds)),
        el('td', {}, outcomeText(x)), el('td', {class: 'wrap'}, x.errors || '')))));
    return el('section', {'aria-labelledby': 'h-gantt'},
      el('h2', {id: 'h-gantt'}, 'Run ', run.id, run.pipeline ? ' of ' + run.pipeline : '', ' · ',
        outcomeText(run), ' · ', duration(run.duration_seconds),
        safeUrl(run.url) ? [' · ', el('a', {href: safeUrl(run.url), rel: 'noopener noreferrer'}, 'open in CI')] : []),
      el('figure', {class: 'chart'},
        el('figcaption', {}, 'Gantt: grey queued, then running (green success, red failure, blue still running)'),
        box),
      el('div', {class: 'table-box'}, table));
  }

  /* Each run's duration over the window, one series per pipeline. */
  function durations(runs) {
    const canvas = el('canvas', {id: 'c-durations', role: 'img',
      'aria-label': 'Duration of each run over time; the list below has the same runs'});
    const done = runs.filter(r => r.duration_seconds !== null && (r.started_at || r.queued_at));
    requestAnimationFrame(() => chart(canvas, {type: 'scatter', data: {datasets: [{
      label: 'run duration (minutes)',
      data: done.map(r => ({x: ms(r.queued_at || r.started_at), y: r.duration_seconds / 60, ref: r})),
      backgroundColor: done.map(r => outcomeColour(r.outcome)), pointRadius: 4}]},
      options: {scales: {x: {type: 'linear', ticks: {callback: v => new Date(v).toISOString().slice(5, 16).replace('T', ' '),
                                                      maxRotation: 0, autoSkipPadding: 16}},
                         y: {beginAtZero: true}},
                plugins: {tooltip: {callbacks: {label: c => `${c.raw.ref.pipeline || ''} ${c.raw.ref.id}: ` +
                  `${duration(c.raw.ref.duration_seconds)} ${outcomeText(c.raw.ref)}`}}},
                onClick: (e, items) => {
                  if (items.length) window.location.href = runHref(done[items[0].index]);
                }}}));
    return el('figure', {class: 'chart'}, el('figcaption', {}, 'Run durations (colour: outcome)'),
      el('div', {class: 'canvas-box'}, canvas));
  }

  function summary(pipelines) {
    return el('div', {class: 'table-box'}, el('table', {id: 'pipelines'},
      el('caption', {}, 'Per pipeline, over every run in the window'),
      el('thead', {}, el('tr', {}, ['Pipeline', 'Runs', 'Succeeded', 'Failed', 'Median duration',
                                    'Last outcome', 'Last started'].map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, pipelines.map(p => el('tr', {dataset: {pipeline: p.pipeline || ''}},
        el('th', {scope: 'row'}, p.pipeline ? name(p.pipeline) : '(unnamed)'), el('td', {}, String(p.runs)),
        el('td', {}, String(p.succeeded)), el('td', {}, String(p.failed)),
        el('td', {}, duration(p.median_duration_seconds)), el('td', {}, p.last_outcome || '–'),
        el('td', {}, time(p.last_started_at)))))));
  }

  function list(l, current) {
    return el('div', {class: 'table-box'}, el('table', {id: 'runs'},
      el('caption', {}, l.truncated ? `The newest ${l.runs.length} runs (up to 1000 in the CSV link above)`
                                    : `${l.runs.length} run${l.runs.length === 1 ? '' : 's'}, newest first`),
      el('thead', {}, el('tr', {}, ['Started', 'Pipeline', 'Run', 'Outcome', 'Queued', 'Running',
                                    'Duration', 'Tasks'].map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, l.runs.map(r => el('tr', {
          class: /fail|error/.test(r.outcome || '') ? 'failed' : null,
          'aria-current': same(r, current) ? 'true' : null, dataset: {run: r.id}},
        el('td', {}, time(r.started_at || r.queued_at)), el('th', {scope: 'row'}, name(r.pipeline)),
        el('td', {}, el('a', {href: runHref(r), class: 'name', title: r.id}, r.id)), el('td', {}, outcomeText(r)),
        el('td', {}, duration(r.queued_seconds)), el('td', {}, duration(r.running_seconds)),
        el('td', {}, duration(r.duration_seconds)), el('td', {}, String(r.task_runs)))))));
  }

  live(async () => {
    const l = await api('/api/v1/pipeline-runs', q);
    const run = chosen(l.runs);
    /* a run that cannot be shown (a stale link) must not hide the list */
    const detail = run ? await api('/api/v1/pipeline-runs/run',
                                   new URLSearchParams({id: run.id, source: run.source}))
      .catch(err => ({missing: run, why: err.message, __text: err.message})) : null;
    return [l, detail];
  }, ([l, detail]) => {
    clear(main).removeAttribute('aria-busy');
    /* over every run of the window, as the summary counts them (the list may be cut) */
    const total = l.pipelines.reduce((n, p) => n + p.runs, 0);
    const failed = l.pipelines.reduce((n, p) => n + p.failed, 0);
    main.append(el('h1', {}, 'Pipeline runs'),
      el('p', {class: 'window'}, 'From ', time(l.window.from), ' to ', time(l.window.to), ' · ',
        `${total} run${total === 1 ? '' : 's'}, ${failed} failed · `,
        el('a', {href: csvHref()}, 'CSV')));
    if (detail && detail.missing)
      main.append(el('p', {class: 'error', role: 'alert'}, `Run ${detail.missing.id} cannot be shown: ${detail.why}`));
    else if (detail)
      main.append(gantt(detail)); /* a linked run shows even outside the window */
    if (!l.runs.length) {
      main.append(emptyState('No pipeline runs in this window (pipelinerun.queued, .started and ' +
                             '.finished events, and taskrun events naming their pipeline run).'));
      return;
    }
    main.append(el('div', {class: 'charts'}, durations(l.runs), summary(l.pipelines)),
      el('h2', {}, 'Recent runs'), list(l, chosen(l.runs)));
  });
})();
