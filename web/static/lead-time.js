/*
 * Lead time breakdown (/lead-time): where the time goes for the changes whose first
 * production deployment is in the window: created → merged → artifact → first deployment in
 * any environment → production. Reads GET /api/v1/dora (the lead-time figure itself) and
 * /api/v1/changes (one row per change, with its stage times); the stage medians here are
 * computed from those rows with the API's rule (percentile_cont, linear interpolation).
 */
'use strict';

(() => {
  const {el, clear, filterQuery, api, duration, time, name, frame, filterForm, live, traceHref,
         emptyState, chart} = cdlens;

  frame('Lead time');
  const main = document.getElementById('main');
  main.before(filterForm({services: true, environments: true}));
  const q = filterQuery();

  const segments = [
    ['created_to_merged', 'created → merged', '#60a5fa'],
    ['merged_to_artifact', 'merged → artifact', '#a78bfa'],
    ['artifact_to_first_deployment', 'artifact → first deployment', '#f59e0b'],
    ['first_deployment_to_production', 'first deployment → production', '#10b981'],
  ];
  const bins = [[0, 'under 1 h'], [3600, '1–4 h'], [4 * 3600, '4–12 h'], [12 * 3600, '12–24 h'],
                [86400, '1–2 days'], [2 * 86400, '2–7 days'], [7 * 86400, '7–30 days'],
                [30 * 86400, '30 days or more']];

  /* percentile_cont: rank p * (n - 1), linear interpolation */
  function percentile(sorted, p) {
    if (!sorted.length) return null;
    const rank = p * (sorted.length - 1), lo = Math.floor(rank);
    return lo + 1 >= sorted.length ? sorted[sorted.length - 1]
                                   : sorted[lo] + (rank - lo) * (sorted[lo + 1] - sorted[lo]);
  }

  function values(changes, f) {
    return changes.map(f).filter(v => v !== null && v !== undefined).sort((a, b) => a - b);
  }

  function breakdown(changes) {
    const rows = segments.map(([key, label, colour]) => {
      const v = values(changes, c => c.stages ? c.stages[key + '_seconds'] : null);
      return {key, label, colour, n: v.length, median: percentile(v, 0.5), p90: percentile(v, 0.9)};
    });
    const canvas = el('canvas', {id: 'c-breakdown', role: 'img',
      'aria-label': 'Median time spent in each stage; the table beside lists the same values'});
    requestAnimationFrame(() => chart(canvas, {type: 'bar', data: {
      labels: rows.map(r => r.label),
      datasets: [{label: 'median (hours)', data: rows.map(r => r.median === null ? null : r.median / 3600),
                  backgroundColor: rows.map(r => r.colour)},
                 {label: 'p90 (hours)', data: rows.map(r => r.p90 === null ? null : r.p90 / 3600),
                  backgroundColor: rows.map(r => r.colour + '88')}]},
      options: {indexAxis: 'y', scales: {x: {beginAtZero: true}}}}));
    const table = el('table', {id: 'stages'},
      el('caption', {}, 'Per stage, over the changes where both ends are known'),
      el('thead', {}, el('tr', {}, ['Stage', 'Changes', 'Median', 'p90'].map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, rows.map(r => el('tr', {dataset: {stage: r.key, median: r.median === null ? '' : String(r.median)}},
        el('th', {scope: 'row'}, r.label), el('td', {}, String(r.n)), el('td', {}, duration(r.median)),
        el('td', {}, duration(r.p90))))));
    return el('div', {class: 'charts'},
      el('figure', {class: 'chart'}, el('figcaption', {}, 'Where the time goes (median and p90 per stage)'),
        el('div', {class: 'canvas-box'}, canvas)),
      el('div', {class: 'table-box'}, table));
  }

  function histogram(changes) {
    const counts = bins.map(() => 0);
    for (const c of changes) {
      let k = bins.length - 1;
      while (k > 0 && c.lead_time_seconds < bins[k][0]) k--;
      counts[k]++;
    }
    const canvas = el('canvas', {id: 'c-histogram', role: 'img', 'aria-label': 'Distribution of lead times'});
    requestAnimationFrame(() => chart(canvas, {type: 'bar', data: {labels: bins.map(b => b[1]),
      datasets: [{label: 'changes', data: counts, backgroundColor: '#3b82f6'}]},
      options: {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}}));
    return el('figure', {class: 'chart', dataset: {counts: counts.join(',')}},
      el('figcaption', {}, 'Distribution of lead times (changes per range)'),
      el('div', {class: 'canvas-box'}, canvas));
  }

  function slowest(changes) {
    const rows = changes.slice().sort((a, b) => b.lead_time_seconds - a.lead_time_seconds).slice(0, 50);
    return el('div', {class: 'table-box'}, el('table', {id: 'changes'},
      el('caption', {}, `The ${rows.length} slowest of ${changes.length} changes`),
      el('thead', {}, el('tr', {}, ['Change', 'Repository', 'Lead time', 'First seen', 'In production',
                                    'Service', 'Environment', 'Linked by'].map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, rows.map(c => el('tr', {},
        el('th', {scope: 'row'}, el('a', {href: traceHref({change: c.id, repository: c.repository}),
                                          class: 'name', title: c.id}, c.id)),
        el('td', {}, name(c.repository)), el('td', {}, duration(c.lead_time_seconds)),
        el('td', {}, time(c.first_at)), el('td', {}, time(c.deployed_at)),
        el('td', {}, name(c.deployment.service)), el('td', {}, name(c.deployment.environment)),
        el('td', {}, c.rule))))));
  }

  live(() => Promise.all([api('/api/v1/dora', q), api('/api/v1/changes', q)]), ([d, cl]) => {
    clear(main).removeAttribute('aria-busy');
    const lt = d.lead_time;
    main.append(el('h1', {}, 'Lead time breakdown'),
      el('p', {class: 'window'}, 'From ', time(d.window.from), ' to ', time(d.window.to), ' · ',
        el('span', {dataset: {figure: 'lead_time.changes', value: String(lt.changes)}}, String(lt.changes)),
        ' changes reached production · median ',
        el('strong', {dataset: {figure: 'lead_time.median_seconds', value: lt.median_seconds === null ? '' : String(lt.median_seconds)}},
          duration(lt.median_seconds)),
        ' · p90 ', el('strong', {dataset: {figure: 'lead_time.p90_seconds', value: lt.p90_seconds === null ? '' : String(lt.p90_seconds)}},
          duration(lt.p90_seconds)), ' · mean ', duration(lt.mean_seconds), ' · ',
        el('a', {href: '/api/v1/changes?' + q + '&format=csv'}, 'CSV')));
    if (!cl.changes.length) {
      main.append(emptyState('No change reached production in this window.'));
      return;
    }
    main.append(breakdown(cl.changes), histogram(cl.changes), el('h2', {}, 'Slowest changes'),
      slowest(cl.changes));
  });
})();
