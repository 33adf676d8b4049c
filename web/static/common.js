/*
 * cdlens dashboard: what every page shares (docs/DASHBOARD.md).
 *
 * - Pages read the public JSON API (/api/v1/...), nothing else.
 * - Text from events is only ever put into the page as text (el() sets textContent and
 *   attributes, never innerHTML), so an event cannot inject markup or script.
 * - Filters live in the page URL (days or from/to, service, environment, bucket), so a view
 *   can be shared; the filter form is a plain GET form.
 * - Live: the page's refresh function runs again every `refresh` seconds (default 10, URL
 *   parameter refresh=0 turns it off) while the page is visible; it redraws only when the
 *   API's answer changed.
 */
'use strict';

const cdlens = (() => {
  const params = new URLSearchParams(window.location.search);

  /* el('a', {href: '/x', class: 'y'}, 'text', child, ...): a DOM element; strings are text */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /* Empty a node; the charts drawn in it are destroyed (else Chart.js keeps them alive). */
  function clear(node) {
    if (window.Chart)
      for (const c of node.querySelectorAll('canvas')) {
        const existing = Chart.getChart(c);
        if (existing) existing.destroy();
      }
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  /* ---- the window and filters, from the page URL ---- */

  function isoDate(s, endOfDay) {
    if (!s) return null;
    if (/^\d{4}-\d{2}-\d{2}$/.test(s)) {
      const d = new Date(s + 'T00:00:00Z');
      if (endOfDay) d.setUTCDate(d.getUTCDate() + 1);
      return d.toISOString();
    }
    const d = new Date(s);
    return isNaN(d) ? null : d.toISOString();
  }

  /* The end of the current hour (included in "the last N days"). */
  function hourEnd() {
    const end = new Date();
    end.setUTCMinutes(0, 0, 0);
    end.setUTCHours(end.getUTCHours() + 1);
    return end;
  }

  /* The window of the page URL: from and to (dates, whole days in UTC with `to` included, or
   * RFC 3339 times); `days` (default 30) up to the end of the current hour, or before `to`
   * when only `to` is given; from `from` up to now when only `from` is given. Relative
   * windows (ending now) move with the clock: live() recomputes them before every refresh. */
  function pageWindow() {
    const days = Math.min(Math.max(parseInt(params.get('days') || '30', 10) || 30, 1), 3660);
    const from = isoDate(params.get('from'), false), to = isoDate(params.get('to'), true);
    if (from && to) return {from, to, relative: false};
    if (to) return {from: new Date(Date.parse(to) - days * 86400000).toISOString(), to, relative: false};
    const end = hourEnd();
    return {from: from || new Date(end.getTime() - days * 86400000).toISOString(),
            to: end.toISOString(), relative: true};
  }

  const relativeQueries = []; /* queries whose window live() moves forward */

  /* The API query for the page's filters: from/to (RFC 3339), service, environment, and any
   * `extra` parameters (bucket, limit). */
  function filterQuery(extra) {
    const q = new URLSearchParams();
    const w = pageWindow();
    q.set('from', w.from);
    q.set('to', w.to);
    for (const s of params.getAll('service')) if (s) q.append('service', s);
    for (const e of params.getAll('environment')) if (e) q.append('environment', e);
    for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
    if (w.relative) relativeQueries.push(q);
    return q;
  }

  function moveRelativeWindows() {
    const w = pageWindow();
    for (const q of relativeQueries) {
      q.set('from', w.from);
      q.set('to', w.to);
    }
  }

  /* GET an API path; resolves to the parsed JSON; rejects with the problem's detail. */
  async function api(path, query) {
    const url = query ? path + '?' + query.toString() : path;
    const r = await fetch(url, {headers: {Accept: 'application/json'}});
    const text = await r.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { /* not JSON: reported below */ }
    if (!r.ok) {
      const why = body && (body.detail || body.title) ? (body.detail || body.title) : r.statusText;
      throw new Error(r.status + ': ' + why);
    }
    if (body === null) throw new Error('the API did not answer JSON');
    body.__text = text; /* for change detection by live() */
    return body;
  }

  /* ---- formatting ---- */

  function duration(s) {
    if (s === null || s === undefined) return '–';
    s = Number(s);
    if (s < 60) return s.toFixed(s < 10 && s % 1 ? 1 : 0) + ' s';
    const units = [['d', 86400], ['h', 3600], ['m', 60]];
    const parts = [];
    for (const [u, n] of units) {
      if (s >= n || parts.length) {
        const k = Math.floor(s / n);
        s -= k * n;
        parts.push(k + u);
      }
      if (parts.length === 2) break;
    }
    return parts.join(' ');
  }

  function percent(x) {
    return x === null || x === undefined ? '–' : (100 * x).toFixed(1) + ' %';
  }

  function number(x, digits) {
    return x === null || x === undefined ? '–' : Number(x).toFixed(digits || 0);
  }

  function time(iso) {
    if (!iso) return '–';
    return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/:\d\dZ$/, 'Z');
  }

  function tierBadge(tier) {
    return tier ? el('span', {class: 'tier tier-' + tier, 'data-tier': tier}, tier)
                : el('span', {class: 'tier tier-none', 'data-tier': ''}, 'no data');
  }

  /* ---- page frame ---- */

  const nav = [['/', 'Overview'], ['/lead-time', 'Lead time'], ['/deployments', 'Deployments'],
               ['/pipelines', 'Pipeline runs']];

  /* Header with navigation (filters carried over) and the live indicator. */
  function frame(title) {
    const keep = new URLSearchParams();
    for (const k of ['days', 'from', 'to', 'service', 'environment'])
      for (const v of params.getAll(k)) keep.append(k, v);
    const qs = keep.toString() ? '?' + keep.toString() : '';
    const header = el('header', {class: 'top'},
      el('a', {href: '/' + qs, class: 'brand'}, 'cdlens'),
      el('nav', {'aria-label': 'pages'},
        nav.map(([href, label]) => el('a', {
          href: href + qs,
          'aria-current': window.location.pathname === href ? 'page' : null}, label))),
      el('span', {id: 'live', class: 'live', role: 'status', 'aria-live': 'polite'}, ''));
    document.body.prepend(header);
    document.title = title + ' · cdlens';
  }

  /* The filter form: window (days or from/to), services and environments (several), bucket. */
  function filterForm(options) {
    const o = options || {};
    const form = el('form', {class: 'filters', method: 'get', action: window.location.pathname,
                             'aria-label': 'filters'});
    const days = params.get('days') || (params.get('from') ? '' : '30');
    form.append(el('label', {}, 'Window ',
      el('select', {name: 'days', id: 'f-days'},
        el('option', {value: ''}, 'from – to'),
        [...new Set(['1', '7', '30', '90', '180', '365', days].filter(d => /^[1-9][0-9]{0,3}$/.test(d)))]
          .sort((a, b) => a - b).map(d =>
          el('option', {value: d, selected: d === days}, 'last ' + d + (d === '1' ? ' day' : ' days'))))));
    form.append(el('label', {}, 'From ', el('input', {type: 'date', name: 'from', id: 'f-from',
      value: (params.get('from') || '').slice(0, 10)})));
    form.append(el('label', {}, 'To ', el('input', {type: 'date', name: 'to', id: 'f-to',
      value: (params.get('to') || '').slice(0, 10)})));
    const multi = (name, label, values) => {
      const chosen = new Set(params.getAll(name));
      for (const v of chosen) if (!values.includes(v)) values = values.concat([v]);
      return el('label', {}, label + ' ',
        el('select', {name, id: 'f-' + name, multiple: true, size: Math.min(Math.max(values.length, 2), 5)},
          values.map(v => el('option', {value: v, selected: chosen.has(v)}, v))));
    };
    /* several-valued filters: services, environments, and any a page adds ([name, label, values]) */
    const multis = [];
    if (o.services) multis.push(['service', 'Services', o.services]);
    if (o.environments) multis.push(['environment', 'Environments', o.environments]);
    for (const [name, label, values] of multis.concat(o.more || [])) form.append(multi(name, label, values));
    if (o.bucket) {
      const b = params.get('bucket') || '';
      form.append(el('label', {}, 'Bucket ',
        el('select', {name: 'bucket', id: 'f-bucket'},
          [['', 'auto'], ['day', 'day'], ['week', 'week'], ['month', 'month']].map(([v, t]) =>
            el('option', {value: v, selected: v === b}, t)))));
    }
    form.append(el('button', {type: 'submit'}, 'Apply'));
    /* empty fields stay out of the URL; a chosen from/to wins over "last N days" */
    form.addEventListener('submit', () => {
      const f = form.querySelector('#f-from'), t = form.querySelector('#f-to');
      const d = form.querySelector('#f-days');
      if (f.value) d.disabled = true; /* from..to, or from..now: days has no say */
      for (const x of form.querySelectorAll('input, select'))
        if (!x.multiple && x.value === '') x.disabled = true;
    });
    return form;
  }

  function problem(node, err) {
    clear(node).append(el('p', {class: 'error', role: 'alert'}, 'Could not load: ' + err.message));
  }

  /* Run refresh() now and every `refresh` seconds while visible. refresh() returns the API
   * texts it drew from; the page is redrawn (draw(data)) only when they changed. */
  function live(load, draw) {
    const every = Math.max(parseInt(params.get('refresh') || '10', 10), 0);
    let last = null, busy = false;
    const indicator = () => document.getElementById('live');
    async function tick() {
      if (busy || document.visibilityState === 'hidden') return;
      busy = true;
      try {
        moveRelativeWindows();
        const data = await load();
        const key = JSON.stringify(Array.isArray(data) ? data.map(d => d && d.__text) : data.__text);
        if (key !== last) {
          last = key;
          draw(data);
        }
        const i = indicator();
        if (i) {
          i.textContent = every ? 'live · updated ' + new Date().toLocaleTimeString() : 'updated ' +
            new Date().toLocaleTimeString();
          i.dataset.updated = String(Date.now());
        }
      } catch (err) {
        const main = document.querySelector('main');
        if (main && last === null) problem(main, err);
        const i = indicator();
        if (i) i.textContent = 'not updated: ' + err.message;
      } finally {
        busy = false;
      }
    }
    tick();
    if (every) setInterval(tick, every * 1000);
    document.addEventListener('visibilitychange', tick);
  }

  /* A trace page link for a deployment event or change. */
  function traceHref(q) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) if (v) u.set(k, v);
    return '/trace?' + u.toString();
  }

  /* A URL from an event, if it is http(s): never a javascript: or data: link. */
  function safeUrl(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null;
  }

  /* What to send to see data on an empty page. */
  function emptyState(what) {
    return el('div', {class: 'empty', 'data-empty': 'true'},
      el('p', {}, what),
      el('p', {}, 'cdlens shows what CDEvents producers send to ',
        el('code', {}, 'POST ' + window.location.origin + '/api/v1/events'),
        '. Production deployments are ',
        el('code', {}, 'dev.cdevents.service.deployed'), ', ',
        el('code', {}, 'service.upgraded'), ' and ', el('code', {}, 'service.rolledback'),
        ' events in an environment whose id or name matches --production-env (by default ',
        el('code', {}, 'prod'), ' or ', el('code', {}, 'production'), ', also as ',
        el('code', {}, 'eu/prod'), '); lead time needs ', el('code', {}, 'change.*'),
        ' events and a link from the change to what was deployed (see docs/CORRELATION.md).'),
      el('pre', {}, "curl -X POST " + window.location.origin + "/api/v1/events \\\n" +
        "  -H 'Authorization: Bearer TOKEN' -H 'Content-Type: application/json' \\\n" +
        "  -d '{\"context\":{\"specversion\":\"0.4.1\",\"id\":\"d-1\",\"source\":\"/ci\"," +
        "\"type\":\"dev.cdevents.service.deployed.0.2.0\",\"timestamp\":\"" +
        new Date().toISOString() + "\"},\"subject\":{\"id\":\"my-service\",\"source\":\"/ci\"," +
        "\"content\":{\"environment\":{\"id\":\"prod\"},\"artifactId\":\"pkg:oci/app@sha256:0\"}}}'"));
  }

  /* Chart.js defaults: no animation (tests and screenshots see the final picture). */
  function chart(canvas, config) {
    config.options = Object.assign({animation: false, responsive: true,
                                    maintainAspectRatio: false}, config.options || {});
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    return new Chart(canvas, config);
  }

  return {params, el, clear, filterQuery, api, duration, percent, number, time, tierBadge,
          frame, filterForm, problem, live, traceHref, safeUrl, emptyState, chart};
})();
