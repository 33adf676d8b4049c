/*
 * cdlens dashboard: what every page shares (docs/DASHBOARD.md).
 *
 * - Pages read the public JSON API (/api/v1/...), nothing else.
 * - Text from events is only ever put into the page as text (el() sets textContent and
 *   attributes, never innerHTML), so an event cannot inject markup or script.
 * - Filters live in the page URL (days or from/to, service, environment, bucket), so a view
 *   can be shared; the filter form is a plain GET form.
 * - Links between pages (navigation, drill-downs, traces) carry the page's own URL
 *   parameters (pageQuery()), never the API query resolved from them: a window relative to now
 *   stays relative, and `to=2026-03-05` stays that day.
 * - Live: the page's refresh function runs again every `refresh` seconds (default 10, from 5 to
 *   86400; refresh=0 turns it off) while the page is visible; it redraws only when the API's
 *   answer changed. A request not answered within min(max(refresh, 10), 30) seconds is given
 *   up, and the header says the page is stale. Screen readers hear only errors and new data,
 *   not every tick (the time of the last update is outside the live region).
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

  /* days= of the page URL: 30 when absent or not a number, else within 1..3660 (the API's
   * longest window). The Window select shows this number, so it shows what the page shows. */
  function windowDays() {
    const n = parseInt(params.get('days') || '', 10);
    return isNaN(n) ? 30 : Math.min(Math.max(n, 1), 3660);
  }

  /* The window of the page URL: from and to (dates, whole days in UTC with `to` included, or
   * RFC 3339 times); `days` (default 30) up to the end of the current hour, or before `to`
   * when only `to` is given; from `from` up to now when only `from` is given. Relative
   * windows (ending now) move with the clock: live() recomputes them before every refresh. */
  function pageWindow() {
    const days = windowDays();
    const from = isoDate(params.get('from'), false), to = isoDate(params.get('to'), true);
    if (from && to) return {from, to, relative: false};
    if (to) return {from: new Date(Date.parse(to) - days * 86400000).toISOString(), to, relative: false};
    const end = hourEnd();
    return {from: from || new Date(end.getTime() - days * 86400000).toISOString(),
            to: end.toISOString(), relative: true};
  }

  /* The page's own URL parameters that every link to another page carries (the navigation,
   * the overview's drill-downs, trace links), plus `extra`: the window as the URL says it
   * (days or from/to, so a relative window stays relative), services, environments, the
   * overview's bucket and the refresh interval. */
  const CARRIED = ['days', 'from', 'to', 'service', 'environment', 'bucket', 'refresh'];
  function pageQuery(extra) {
    const q = new URLSearchParams();
    for (const k of CARRIED) for (const v of params.getAll(k)) if (v) q.append(k, v);
    for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
    return q;
  }

  /* path?pageQuery(extra), or path alone when there is nothing to carry. */
  function pageHref(path, extra) {
    const q = pageQuery(extra).toString();
    return q ? path + '?' + q : path;
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

  /* refresh= of the page URL in seconds: 10 when absent or not a number, 0 (off) for 0 or
   * less, else within 5..86400 (a day; more would overflow setInterval's 2^31-1 ms). */
  function refreshSeconds() {
    const n = parseInt(params.get('refresh') || '', 10);
    if (isNaN(n)) return 10;
    return n <= 0 ? 0 : Math.min(Math.max(n, 5), 86400);
  }

  /* How long a request may take before the page gives it up: the refresh interval, within
   * 10..30 seconds (a hung request must not stop a live page for good). */
  function requestTimeout() {
    return Math.min(Math.max(refreshSeconds(), 10), 30);
  }

  /* GET an API path; resolves to the parsed JSON; rejects with the problem's detail, or when
   * no answer came within requestTimeout() seconds. */
  async function api(path, query) {
    const url = query ? path + '?' + query.toString() : path;
    const seconds = requestTimeout(), abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), seconds * 1000);
    let r, text;
    try {
      r = await fetch(url, {headers: {Accept: 'application/json'}, signal: abort.signal});
      text = await r.text();
    } catch (err) {
      throw abort.signal.aborted ? new Error('the API did not answer within ' + seconds + ' s') : err;
    } finally {
      clearTimeout(timer);
    }
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

  /* A name from an event (service, repository, pipeline): cut with an ellipsis past
   * style.css's .name width, the whole text in its title. */
  function name(text) {
    return text === null || text === undefined || text === '' ? '–'
      : el('span', {class: 'name', title: String(text)}, String(text));
  }

  function tierBadge(tier) {
    return tier ? el('span', {class: 'tier tier-' + tier, 'data-tier': tier}, tier)
                : el('span', {class: 'tier tier-none', 'data-tier': ''}, 'no data');
  }

  /* ---- page frame ---- */

  const nav = [['/', 'Overview'], ['/lead-time', 'Lead time'], ['/deployments', 'Deployments'],
               ['/pipelines', 'Pipeline runs']];

  /* Header with navigation (the page's filters carried over, pageQuery()) and the live
   * indicator: the time of the last update (not announced) and a live region for what a
   * screen reader should hear (errors, new data). */
  function frame(title) {
    const header = el('header', {class: 'top'},
      el('a', {href: pageHref('/'), class: 'brand'}, 'cdlens'),
      el('nav', {'aria-label': 'pages'},
        nav.map(([href, label]) => el('a', {
          href: pageHref(href),
          'aria-current': window.location.pathname === href ? 'page' : null}, label))),
      el('span', {id: 'live', class: 'live'}, el('span', {class: 'live-time'}),
        el('span', {class: 'live-note', role: 'status', 'aria-live': 'polite'})));
    document.body.prepend(header);
    document.title = title + ' · cdlens';
  }

  /* Hidden fields for the URL parameters in `names` that `form` has no field of its own for,
   * so that submitting the form keeps them (refresh=, the overview's bucket=, failed=1). */
  function keepFields(form, names) {
    const own = new Set([...form.elements].map(x => x.name));
    for (const k of names)
      if (!own.has(k))
        for (const v of params.getAll(k)) if (v) form.append(el('input', {type: 'hidden', name: k, value: v}));
  }

  /* A several-valued filter's options: `values` plus what is chosen now, sorted. */
  function setOptions(select, values) {
    const chosen = new Set([...select.selectedOptions].map(x => x.value));
    const all = [...new Set(values.concat([...chosen]))].sort();
    clear(select).append(...all.map(v => el('option', {value: v, title: v, selected: chosen.has(v)}, v)));
    select.size = Math.min(Math.max(all.length, 2), 5);
  }

  /* Every service and production environment of the page's window whatever the page's filters
   * (GET /api/v1/dora/services without service= or environment=): the filter form's choices. */
  function serviceOptions() {
    const w = pageWindow();
    return api('/api/v1/dora/services', new URLSearchParams({from: w.from, to: w.to}))
      .then(s => ({service: s.services.map(x => x.service), environment: s.filters.environments || []}));
  }

  /* The window fields: "last N days" or from – to. Choosing N days empties From and To (the
   * choice is then N days up to now); typing a From date sets the choice to "from – to". */
  function windowFields(form) {
    const days = params.get('from') ? '' : String(windowDays());
    const choices = [...new Set(['1', '7', '30', '90', '180', '365', days].filter(Boolean))].sort((a, b) => a - b);
    const d = el('select', {name: 'days', id: 'f-days'}, el('option', {value: ''}, 'from – to'),
      choices.map(n => el('option', {value: n, selected: n === days}, 'last ' + n + (n === '1' ? ' day' : ' days'))));
    const date = name => el('input', {type: 'date', name, id: 'f-' + name,
      value: (params.get(name) || '').slice(0, 10)});
    const f = date('from'), t = date('to');
    d.addEventListener('change', () => { if (d.value) f.value = t.value = ''; });
    f.addEventListener('change', () => { if (f.value) d.value = ''; });
    form.append(el('label', {}, 'Window ', d), el('label', {}, 'From ', f), el('label', {}, 'To ', t));
  }

  /* The filter form, drawn before any data arrives (a page whose URL the API refuses can still
   * be fixed with it): the window, several-valued filters (services, environments, and any a
   * page adds as `more`: [[name, label]]), the overview's bucket. The several-valued filters
   * offer what the URL chose until `options()` (default serviceOptions) answers with
   * {name: [values]} for the whole window. URL parameters the form has no field for (refresh,
   * bucket, and the page's `keep`, e.g. failed) are kept as hidden fields. */
  function filterForm(options) {
    const o = options || {};
    const form = el('form', {class: 'filters', method: 'get', action: window.location.pathname,
                             'aria-label': 'filters'});
    windowFields(form);
    const multis = (o.services ? [['service', 'Services']] : [])
      .concat(o.environments ? [['environment', 'Environments']] : [], o.more || []);
    for (const [name, label] of multis) {
      const select = el('select', {name, id: 'f-' + name, multiple: true},
        params.getAll(name).filter(Boolean).map(v => el('option', {value: v, selected: true}, v)));
      setOptions(select, []);
      form.append(el('label', {}, label + ' ', select));
    }
    if (o.bucket) {
      const b = params.get('bucket') || '';
      form.append(el('label', {}, 'Bucket ',
        el('select', {name: 'bucket', id: 'f-bucket'},
          [['', 'auto'], ['day', 'day'], ['week', 'week'], ['month', 'month']].map(([v, t]) =>
            el('option', {value: v, selected: v === b}, t)))));
    }
    keepFields(form, CARRIED.concat(o.keep || []));
    form.append(el('button', {type: 'submit'}, 'Apply'));
    /* empty fields stay out of the URL; a From date wins over "last N days" */
    form.addEventListener('submit', () => {
      if (form.querySelector('#f-from').value) form.querySelector('#f-days').disabled = true;
      for (const x of form.querySelectorAll('input, select'))
        if (!x.multiple && x.value === '') x.disabled = true;
    });
    const load = o.options || (multis.length ? serviceOptions : null);
    if (load)
      load().then(lists => {
        for (const [name, values] of Object.entries(lists))
          if (form.elements[name]) setOptions(form.elements[name], values);
      }).catch(() => {}); /* the choices stay as the URL made them; the page reports the error */
    return form;
  }

  function problem(node, err) {
    clear(node).removeAttribute('aria-busy');
    node.append(el('p', {class: 'error', role: 'alert'}, 'Could not load: ' + err.message));
  }

  /* The header's live indicator: when the page last updated (plain text) and, in its live
   * region, only what a screen reader should hear; the same text is not set twice. */
  const indicator = {
    updated(every) {
      const i = document.getElementById('live');
      if (!i) return;
      i.querySelector('.live-time').textContent = (every ? 'live · updated ' : 'updated ') + new Date().toLocaleTimeString();
      i.dataset.updated = String(Date.now());
      i.classList.remove('stale');
      delete i.dataset.stale;
    },
    stale(why) {
      const i = document.getElementById('live');
      if (!i) return;
      i.classList.add('stale');
      i.dataset.stale = 'true';
      if (why) indicator.say(why);
      else i.querySelector('.live-time').textContent = 'not loaded';
    },
    say(text) {
      const note = document.querySelector('#live .live-note');
      if (note && note.textContent !== text) note.textContent = text;
    },
  };

  /* Run load() now and every `refresh` seconds while visible (refreshSeconds()). load()
   * resolves to the API answers it read; the page is redrawn (draw(data)) only when their texts
   * changed. A failed or timed-out load leaves the page as it was, marked stale, and the next
   * tick tries again; a failed first load shows the error in place of the page. */
  function live(load, draw) {
    const every = refreshSeconds();
    let last = null, busy = false, failed = null, since = null;
    async function tick() {
      if (busy || document.visibilityState === 'hidden') return;
      busy = true;
      try {
        moveRelativeWindows();
        const data = await load();
        const key = JSON.stringify(Array.isArray(data) ? data.map(d => d && d.__text) : data.__text);
        if (key !== last) {
          const first = last === null;
          last = key;
          draw(data);
          if (!first) indicator.say('new data at ' + new Date().toLocaleTimeString());
          else if (failed) indicator.say('loaded at ' + new Date().toLocaleTimeString());
        } else if (failed) {
          indicator.say('updated again at ' + new Date().toLocaleTimeString());
        }
        failed = null;
        since = new Date().toLocaleTimeString();
        indicator.updated(every);
      } catch (err) {
        /* nothing drawn yet: the error takes the page's place (an alert: not said twice) */
        const main = document.querySelector('main');
        if (main && last === null && failed !== err.message) problem(main, err);
        failed = err.message;
        indicator.stale(last === null ? null : 'not updated since ' + (since || '–') + ': ' + err.message);
      } finally {
        busy = false;
      }
    }
    tick();
    if (every) {
      setInterval(tick, every * 1000);
      document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') tick(); });
    }
  }

  /* A trace page link for a deployment event or change; it carries the page's filters, so the
   * navigation from the trace page keeps the window. */
  function traceHref(q) {
    return pageHref('/trace', q);
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

  return {params, el, clear, filterQuery, pageHref, keepFields, api, duration, percent,
          number, time, name, tierBadge, frame, filterForm, problem, live, traceHref, safeUrl, emptyState,
          chart, CARRIED};
})();
