/*
 * Deployments (/deployments): a timeline per production environment of deployments,
 * rollbacks and incidents (select a point to open its trace), and the list behind it, each
 * row with why it failed or is rework and the changes it shipped. Reads GET
 * /api/v1/deployments and /api/v1/incidents with the page's filters; failed=1 or rework=1
 * (links from the overview's figures) keep only those rows in the list, and the filter form
 * keeps them.
 */
'use strict';

(() => {
  const {el, clear, filterQuery, pageHref, api, duration, time, name, frame, filterForm, live,
         traceHref, emptyState, chart, params} = cdlens;
  const LIST_MAX = 500;

  frame('Deployments');
  const main = document.getElementById('main');
  main.before(filterForm({services: true, environments: true, keep: ['failed', 'rework']}));
  const q = filterQuery();

  const deploymentTrace = d => traceHref({deployment: d.event.id, source: d.event.source});
  const colour = {deployed: '#2563eb', upgraded: '#2563eb', rolledback: '#f59e0b', failed: '#dc2626'};

  function timeline(deps, incidents, envs) {
    const canvas = el('canvas', {id: 'c-timeline', role: 'img',
      'aria-label': 'Timeline of deployments, rollbacks and incidents per environment; the table below lists the same deployments'});
    const box = el('figure', {class: 'chart'},
      el('figcaption', {}, 'Timeline: ● deployment (red: failed) ▲ rollback ✕ incident — select one to open its trace'),
      el('div', {class: 'canvas-box'}, canvas));
    const point = d => ({x: Date.parse(d.at), y: d.environment, ref: d});
    const normal = deps.filter(d => d.kind !== 'rolledback');
    const datasets = [
      {label: 'deployment', data: normal.map(point), pointStyle: 'circle', pointRadius: 5,
       backgroundColor: normal.map(d => d.failed ? colour.failed : colour.deployed)},
      {label: 'rollback', data: deps.filter(d => d.kind === 'rolledback').map(point),
       pointStyle: 'triangle', pointRadius: 7, backgroundColor: colour.rolledback},
      {label: 'incident', data: incidents.filter(i => i.environment).map(i => ({
         x: Date.parse(i.opened_at), y: i.environment, ref: i})),
       pointStyle: 'crossRot', pointRadius: 8, borderWidth: 2, borderColor: colour.failed,
       backgroundColor: colour.failed},
    ];
    requestAnimationFrame(() => chart(canvas, {type: 'scatter', data: {datasets}, options: {
      scales: {
        x: {type: 'linear', ticks: {callback: v => new Date(v).toISOString().slice(5, 16).replace('T', ' '),
                                    maxRotation: 0, autoSkipPadding: 16}},
        y: {type: 'category', labels: envs, offset: true},
      },
      plugins: {tooltip: {callbacks: {label: c => {
        const r = c.raw.ref;
        return r.event ? `${r.service} ${r.kind} ${time(r.at)}${r.failed ? ' (failed)' : ''}`
                       : `incident ${r.id} ${time(r.opened_at)}`;
      }}}},
      onClick: (e, items) => {
        if (!items.length) return;
        const r = datasets[items[0].datasetIndex].data[items[0].index].ref;
        if (r.event) window.location.href = deploymentTrace(r);
        else if (r.deployment) window.location.href = traceHref({deployment: r.deployment.id, source: r.deployment.source});
      },
      onHover: (e, items) => { e.native.target.style.cursor = items.length ? 'pointer' : 'default'; },
    }}));
    box.querySelector('.canvas-box').classList.add(envs.length > 3 ? 'tall' : 'normal');
    return box;
  }

  function why(d) {
    const out = [];
    if (d.rolled_back_by) out.push(el('span', {class: 'badge bad'}, 'rolled back by ' + d.rolled_back_by.id));
    for (const i of d.incidents || []) out.push(el('span', {class: 'badge bad'}, 'incident ' + i));
    if (d.rework && d.kind === 'rolledback') out.push(el('span', {class: 'badge'}, 'rework: a rollback'));
    else if (d.rework) out.push(el('span', {class: 'badge'}, 'rework: incident ' + d.rework_incident + ' open'));
    return out;
  }

  function list(deps, total) {
    const rows = deps.slice(-LIST_MAX).reverse();
    const table = el('table', {id: 'deployments'},
      el('caption', {}, rows.length < total ? `The latest ${rows.length} of ${total} (all of them: CSV link above)`
                                            : `${total} deployments, newest first`),
      el('thead', {}, el('tr', {}, ['Time', 'Service', 'Environment', 'Kind', 'Failed', 'Recovery',
                                    'Why', 'Changes', 'Trace'].map(t => el('th', {scope: 'col'}, t)))),
      el('tbody', {}, rows.map(d => el('tr', {class: d.failed ? 'failed' : null,
        dataset: {event: d.event.id}},
        el('td', {}, time(d.at)), el('th', {scope: 'row'}, name(d.service)), el('td', {}, name(d.environment)),
        el('td', {}, d.kind), el('td', {}, d.failed ? 'yes' : 'no'),
        el('td', {}, d.failed ? (d.restored_at ? duration(d.recovery_seconds) : 'open') : ''),
        el('td', {class: 'wrap'}, why(d)),
        el('td', {class: 'wrap'}, (d.changes || []).map((c, k) => [k ? ', ' : '',
          el('a', {href: traceHref({change: c.id, repository: c.repository}), title: c.repository + ' · ' + c.rule},
            c.id)])),
        el('td', {}, el('a', {href: deploymentTrace(d)}, 'trace'))))));
    return el('div', {class: 'table-box'}, table);
  }

  live(() => Promise.all([api('/api/v1/deployments', q), api('/api/v1/incidents', q)]), ([dl, il]) => {
    clear(main).removeAttribute('aria-busy');
    const envs = dl.filters.environments || [];
    let deps = dl.deployments;
    const only = params.get('failed') ? 'failed' : params.get('rework') ? 'rework' : null;
    main.append(el('h1', {}, 'Deployments'),
      el('p', {class: 'window'}, 'From ', time(dl.window.from), ' to ', time(dl.window.to), ' · ',
        `${deps.length} production deployments, ${deps.filter(d => d.failed).length} failed, `,
        `${il.incidents.length} incidents · `,
        el('a', {href: '/api/v1/deployments?' + q + '&format=csv'}, 'CSV'), ' · ',
        el('a', {href: '/api/v1/incidents?' + q + '&format=csv'}, 'incidents CSV')));
    if (!deps.length && !il.incidents.length) {
      main.append(emptyState('No production deployments or incidents in this window.'));
      return;
    }
    main.append(timeline(deps, il.incidents, envs));
    if (only) {
      deps = deps.filter(d => d[only]);
      main.append(el('p', {}, `Showing the ${only} deployments only · `,
        el('a', {href: pageHref(window.location.pathname)}, 'show all')));
    }
    main.append(list(deps, deps.length));
  });
})();
