/*
 * Overview (/): the five DORA figures with their tiers for the window, their trends per
 * bucket, and the services ranked. Reads GET /api/v1/dora and /api/v1/dora/services with the
 * page's filters; every figure links to the rows behind it (the drill-down lists). Those links
 * carry the page's own URL parameters (pageHref), so the drilled page shows the same window
 * as this one, a relative one included; only the JSON and CSV links use the resolved query.
 */
'use strict';

(() => {
  const {el, clear, filterQuery, pageHref, api, duration, percent, number, tierBadge, frame,
         filterForm, live, emptyState, chart} = cdlens;

  frame('Overview');
  const main = document.getElementById('main');
  main.before(filterForm({services: true, environments: true, bucket: true}));

  function figure(key, value, text) {
    return el('span', {class: 'value', dataset: {figure: key, value: value === null ? '' : String(value)}},
              text);
  }

  function card(title, body, tier, links) {
    return el('section', {class: 'card', 'aria-label': title},
      el('h2', {}, title), body, tier === undefined ? null : tierBadge(tier),
      el('p', {class: 'drill'}, links));
  }

  function drill(label, href) {
    return el('a', {href}, label);
  }

  /* q: the API query (for the JSON and CSV links); the page links carry the page's URL. */
  function cards(d, q) {
    const qs = q.toString();
    const df = d.deployment_frequency, lt = d.lead_time, cfr = d.change_failure_rate,
      rt = d.recovery_time, rw = d.rework_rate;
    return el('div', {class: 'cards'},
      card('Deployment frequency',
        el('p', {}, figure('deployment_frequency.per_day', df.per_day, number(df.per_day, 2)), ' per day',
          el('br'), figure('deployment_frequency.deployments', df.deployments, df.deployments),
          ' production deployments'),
        df.tier, [drill('deployments', pageHref('/deployments')), ' · ',
                  drill('JSON', '/api/v1/deployments?' + qs), ' · ',
                  drill('CSV', '/api/v1/deployments?' + qs + '&format=csv')]),
      card('Change lead time',
        el('p', {}, figure('lead_time.median_seconds', lt.median_seconds, duration(lt.median_seconds)),
          ' median', el('br'), 'p90 ', figure('lead_time.p90_seconds', lt.p90_seconds, duration(lt.p90_seconds)),
          ' · ', figure('lead_time.changes', lt.changes, lt.changes), ' changes'),
        lt.tier, [drill('breakdown', pageHref('/lead-time')), ' · ',
                  drill('JSON', '/api/v1/changes?' + qs), ' · ',
                  drill('CSV', '/api/v1/changes?' + qs + '&format=csv')]),
      card('Change failure rate',
        el('p', {}, figure('change_failure_rate.rate', cfr.rate, percent(cfr.rate)), el('br'),
          figure('change_failure_rate.failed', cfr.failed, cfr.failed), ' of ', cfr.deployments,
          ' deployments failed'),
        cfr.tier, [drill('failed deployments', pageHref('/deployments', {failed: '1'})), ' · ',
                   drill('incidents', '/api/v1/incidents?' + qs)]),
      card('Failed deployment recovery time',
        el('p', {}, figure('recovery_time.median_seconds', rt.median_seconds, duration(rt.median_seconds)),
          ' median', el('br'), figure('recovery_time.recoveries', rt.recoveries, rt.recoveries),
          ' recovered · ', figure('recovery_time.open', rt.open, rt.open), ' open'),
        rt.tier, [drill('failed deployments', pageHref('/deployments', {failed: '1'}))]),
      card('Deployment rework rate',
        el('p', {}, figure('rework_rate.rate', rw.rate, percent(rw.rate)), el('br'),
          figure('rework_rate.rework', rw.rework, rw.rework), ' rework deployments'),
        undefined, [drill('rework deployments', pageHref('/deployments', {rework: '1'}))]));
  }

  function trends(d) {
    const labels = d.buckets.map(b => b.start.slice(0, 10));
    const box = (id, title) => el('figure', {class: 'chart'},
      el('figcaption', {}, title), el('div', {class: 'canvas-box'},
        el('canvas', {id, role: 'img', 'aria-label': title})));
    const grid = el('div', {class: 'charts'},
      box('c-deployments', 'Production deployments per ' + d.window.bucket),
      box('c-lead', 'Change lead time (hours): median and p90'),
      box('c-cfr', 'Change failure rate and rework rate (%)'),
      box('c-recovery', 'Recovery time, median (hours)'));
    requestAnimationFrame(() => {
      const hours = x => x === null ? null : x / 3600;
      const fromZero = () => ({scales: {y: {beginAtZero: true}}}); /* durations and rates are never negative */
      chart(grid.querySelector('#c-deployments'), {type: 'bar', data: {labels, datasets: [
        {label: 'deployments', data: d.buckets.map(b => b.deployments), backgroundColor: '#3b82f6'},
        {label: 'failed', data: d.buckets.map(b => b.failed), backgroundColor: '#ef4444'}]}});
      chart(grid.querySelector('#c-lead'), {type: 'line', data: {labels, datasets: [
        {label: 'median', data: d.buckets.map(b => hours(b.lead_time_median_seconds)), borderColor: '#3b82f6', spanGaps: true},
        {label: 'p90', data: d.buckets.map(b => hours(b.lead_time_p90_seconds)), borderColor: '#a855f7', spanGaps: true}]}, options: fromZero()});
      chart(grid.querySelector('#c-cfr'), {type: 'line', data: {labels, datasets: [
        {label: 'change failure rate', data: d.buckets.map(b => b.change_failure_rate === null ? null : 100 * b.change_failure_rate), borderColor: '#ef4444', spanGaps: true},
        {label: 'rework rate', data: d.buckets.map(b => b.rework_rate === null ? null : 100 * b.rework_rate), borderColor: '#f59e0b', spanGaps: true}]}, options: fromZero()});
      chart(grid.querySelector('#c-recovery'), {type: 'line', data: {labels, datasets: [
        {label: 'recovery median', data: d.buckets.map(b => hours(b.recovery_median_seconds)), borderColor: '#10b981', spanGaps: true}]}, options: fromZero()});
    });
    return grid;
  }

  /* The ranking's order: by column `by` (0: service), descending or not. It outlives a redraw
   * (a live update keeps the reader's order). */
  const order = {by: 1, desc: true};

  /* The services ranked; a column header sorts by it (again: the other way). Sorting redraws
   * the rows only, so the header's button keeps the keyboard focus. */
  function ranking(s) {
    const columns = [
      ['Service', x => x.service, x => el('a', {href: '/?' + withService(x.service), class: 'name',
                                            title: x.service}, x.service)],
      ['Deployments/day', x => x.deployment_frequency.per_day, x => number(x.deployment_frequency.per_day, 2)],
      ['Lead time (median)', x => x.lead_time.median_seconds, x => duration(x.lead_time.median_seconds)],
      ['Change failure rate', x => x.change_failure_rate.rate, x => percent(x.change_failure_rate.rate)],
      ['Recovery (median)', x => x.recovery_time.median_seconds, x => duration(x.recovery_time.median_seconds)],
      ['Rework rate', x => x.rework_rate.rate, x => percent(x.rework_rate.rate)],
    ];
    const heads = columns.map(([title], i) => el('th', {scope: 'col'},
      el('button', {type: 'button', onclick: () => {
        order.desc = i === order.by ? !order.desc : i !== 0;
        order.by = i;
        draw();
      }}, title)));
    const body = el('tbody');
    const draw = () => {
      const {by, desc} = order;
      const rows = s.services.slice().sort((a, b) => {
        const x = columns[by][1](a), y = columns[by][1](b);
        if (x === y) return a.service < b.service ? -1 : 1;
        if (x === null) return 1;
        if (y === null) return -1;
        return (x < y ? -1 : 1) * (desc ? -1 : 1);
      });
      heads.forEach((h, i) => h.setAttribute('aria-sort', i === by ? (desc ? 'descending' : 'ascending') : 'none'));
      clear(body).append(...rows.map(x => el('tr', {dataset: {service: x.service}},
        columns.map(([, , cell], i) => i === 0 ? el('th', {scope: 'row'}, cell(x))
                                                : el('td', {}, cell(x))))));
    };
    draw();
    return el('div', {class: 'table-box'}, el('table', {class: 'ranking', id: 'ranking'},
      el('caption', {}, 'Services (select a column to sort)'), el('thead', {}, el('tr', {}, heads)), body));
  }

  /* "22.875" days as "23", "7.5" as "7.5": whole days from 10 on, else two figures. */
  function dayCount(days) {
    return String(days >= 10 ? Math.round(days) : Number(days.toPrecision(2)));
  }

  function withService(service) {
    const u = new URLSearchParams(window.location.search);
    u.delete('service');
    u.append('service', service);
    return u.toString();
  }

  const q = filterQuery({bucket: cdlens.params.get('bucket')});
  const sq = filterQuery();
  live(() => Promise.all([api('/api/v1/dora', q), api('/api/v1/dora/services', sq)]), ([d, s]) => {
    /* a sort button that had the focus gets it back after the redraw */
    const focused = [...main.querySelectorAll('#ranking thead button')].indexOf(document.activeElement);
    clear(main).removeAttribute('aria-busy');
    const days = dayCount(d.window.days);
    main.append(el('h1', {}, 'Delivery performance'),
      el('p', {class: 'window'}, 'From ', el('time', {}, cdlens.time(d.window.from)), ' to ',
        el('time', {}, cdlens.time(d.window.to)), ' (', days, days === '1' ? ' day) · ' : ' days) · ',
        d.filters.services ? 'services: ' + d.filters.services.join(', ') : 'all services',
        ' · environments: ', (d.filters.environments || []).join(', ') || 'none', ' · tiers: DORA ',
        el('abbr', {title: d.report.source}, String(d.report.year))));
    if (d.deployment_frequency.deployments === 0 && d.lead_time.changes === 0) {
      main.append(emptyState('No production deployments in this window.'));
      return;
    }
    main.append(cards(d, sq), trends(d), el('h2', {}, 'Services'), ranking(s));
    if (focused >= 0) main.querySelectorAll('#ranking thead button')[focused].focus();
  });
})();
