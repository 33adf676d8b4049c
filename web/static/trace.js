/*
 * Trace (/trace?...): one delivery chain drawn end to end, in time order: change → build →
 * artifact → pipeline runs → each environment's deployments → incidents and rollbacks, with
 * the time between consecutive steps. The query string is GET /api/v1/trace's (change +
 * repository, artifact, deployment [+ source], chain); without one, a form asks for it. The
 * page's other URL parameters (the window, refresh) are kept for the navigation.
 */
'use strict';

(() => {
  const {el, clear, api, duration, time, frame, live, traceHref, pageHref, keepFields, params,
         CARRIED} = cdlens;

  frame('Trace');
  const main = document.getElementById('main');
  const selectors = ['change', 'repository', 'artifact', 'deployment', 'source', 'chain'];
  const q = new URLSearchParams();
  for (const k of selectors) if (params.get(k)) q.set(k, params.get(k));

  /* The API takes one selector: these are the fields of each. */
  const groups = [['change', 'repository'], ['artifact'], ['deployment', 'source'], ['chain']];

  /* The lookup form. It sends one selector: the one typed into last, else the first filled in
   * (the fields keep the URL's selector, so typing another one must replace it). */
  function lookupForm() {
    const field = (name, label, hint) => el('label', {}, label + ' ',
      el('input', {name, id: 't-' + name, value: params.get(name) || '', placeholder: hint}));
    const form = el('form', {method: 'get', action: '/trace', class: 'filters', 'aria-label': 'trace lookup'},
      field('change', 'Change id', '101'), field('repository', 'Repository', 'github.com/org/repo'),
      field('artifact', 'or artifact purl', 'pkg:oci/app@sha256:…'),
      field('deployment', 'or deployment event id', 'd-1'),
      field('source', 'Deployment event source', '/argocd (if ids repeat)'),
      field('chain', 'or chain id', ''));
    keepFields(form, CARRIED);
    form.append(el('button', {type: 'submit'}, 'Trace'));
    let typed = null;
    form.addEventListener('input', e => { typed = groups.find(g => g.includes(e.target.name)) || typed; });
    form.addEventListener('submit', () => {
      const chosen = typed || groups.find(g => g.some(n => form.elements[n].value)) || [];
      for (const x of form.querySelectorAll('input'))
        if (!x.value || (groups.flat().includes(x.name) && !chosen.includes(x.name))) x.disabled = true;
    });
    return form;
  }

  /* Every step of the trace with its time (null: unknown, listed first in its group). */
  function steps(t) {
    const out = [];
    const add = (kind, key, at, title, ...details) => out.push({kind, key, at, title, details});
    for (const c of t.changes) {
      const at = c.created_at || c.updated_at || c.reviewed_at || c.merged_at;
      add('change', c.key, at, `Change ${c.id} · ${c.repository}`,
        c.description ? el('p', {class: 'desc'}, c.description) : null,
        el('p', {class: 'meta'}, 'created ', time(c.created_at), ' · merged ', time(c.merged_at),
          c.durations.created_to_merged_seconds !== null
            ? ` (${duration(c.durations.created_to_merged_seconds)} after creation)` : ''));
      if (c.merged_at && c.created_at)
        add('merge', c.key + '#merged', c.merged_at, `Change ${c.id} merged`);
    }
    for (const b of t.builds)
      add('build', b.id, b.started_at || b.queued_at || b.finished_at, `Build ${b.id}`,
        el('p', {class: 'meta'}, 'queued ', time(b.queued_at), ' · started ', time(b.started_at),
          ' · finished ', time(b.finished_at),
          b.duration_seconds !== null ? ' · took ' + duration(b.duration_seconds) : ''));
    for (const a of t.artifacts)
      add('artifact', a.purl, a.packaged_at || a.signed_at || a.published_at, `Artifact ${a.purl}`,
        el('p', {class: 'meta'}, 'packaged ', time(a.packaged_at), ' · signed ', time(a.signed_at),
          ' · published ', time(a.published_at),
          a.change ? ` · built from change ${a.change.id} (${a.change_rule})` : ''));
    for (const p of t.pipeline_runs)
      add('pipeline_run', p.id, p.queued_at || p.started_at || p.finished_at,
        `Pipeline run ${p.name || p.id} · ${p.outcome || 'no outcome yet'}`,
        el('p', {class: 'meta'}, 'queued ', duration(p.queued_seconds), ' · ran ', duration(p.run_seconds),
          ' · ', String(p.task_runs.length), ' task runs ',
          el('a', {href: pageHref('/pipelines', {run: p.id,
            run_source: p.events.length ? p.events[0].source : ''})}, 'timeline')));
    for (const env of t.environments) {
      for (const d of env.deployments) {
        add('deployment', d.key, d.at, `${d.kind} ${d.service} to ${env.name ? env.name + ' (' + env.id + ')' : env.id}`,
          el('p', {class: 'meta'}, 'event ', d.event.id, ' from ', d.event.source, ' · artifact ', d.artifact || '–'),
          d.changes.length ? el('p', {class: 'meta'}, 'shipped ', d.changes.map((c, k) => [k ? ', ' : '',
            el('a', {href: traceHref({change: c.id, repository: c.repository})}, c.id), ` (${c.rule})`])) : null);
        for (const i of d.incidents)
          add('incident', i.id, i.detected_at || i.reported_at, `Incident ${i.id} in ${env.id}`,
            i.description ? el('p', {class: 'desc'}, i.description) : null,
            el('p', {class: 'meta'}, 'detected ', duration(i.detected_after_seconds), ' after ', d.event.id,
              ' · resolved ', i.resolved_at ? duration(i.resolved_after_seconds) + ' after it' : 'not yet',
              ' · attributed by ', i.rule));
        if (d.rolled_back_by)
          add('rollback', d.rolled_back_by.id, d.rolled_back_by.at, `Rolled back in ${env.id}`,
            el('p', {class: 'meta'}, 'by ', el('a', {href: traceHref({deployment: d.rolled_back_by.id,
              source: d.rolled_back_by.source})}, d.rolled_back_by.id), ', ',
              duration((Date.parse(d.rolled_back_by.at) - Date.parse(d.at)) / 1000), ' after ', d.event.id));
      }
    }
    const order = {change: 0, merge: 1, build: 2, artifact: 3, pipeline_run: 4, deployment: 5, incident: 6, rollback: 7};
    return out.sort((a, b) => (a.at ? Date.parse(a.at) : -Infinity) - (b.at ? Date.parse(b.at) : -Infinity) ||
                              order[a.kind] - order[b.kind]);
  }

  function draw(t) {
    clear(main).removeAttribute('aria-busy');
    main.append(el('h1', {}, 'Trace'),
      el('p', {class: 'window'}, 'Of ', Object.entries(t.query).filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`).join(', '), t.truncated ? ' · truncated: the chain is larger than shown' : '',
        ' · ', el('a', {href: '/api/v1/trace?' + q}, 'JSON')));
    const list = el('ol', {class: 'steps', id: 'steps'});
    let prev = null;
    for (const s of steps(t)) {
      if (prev && prev.at && s.at) {
        const gap = (Date.parse(s.at) - Date.parse(prev.at)) / 1000;
        list.append(el('li', {class: 'gap', 'aria-hidden': 'true'}, '↓ ' + (gap >= 0 ? '+' : '') + duration(Math.abs(gap))));
      }
      list.append(el('li', {class: 'step kind-' + s.kind, dataset: {kind: s.kind, key: s.key}},
        el('h3', {}, s.title), el('p', {class: 'meta'}, el('time', {}, time(s.at))), s.details));
      prev = s;
    }
    main.append(list);
  }

  if (![...q.keys()].some(k => ['change', 'artifact', 'deployment', 'chain'].includes(k))) {
    clear(main).removeAttribute('aria-busy');
    main.append(el('h1', {}, 'Trace'), el('p', {}, 'Trace one change, artifact, deployment or chain end to end.'),
      lookupForm());
    return;
  }
  main.before(lookupForm());
  live(() => api('/api/v1/trace', q), draw);
})();
