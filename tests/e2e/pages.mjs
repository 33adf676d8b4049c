// tests/e2e/pages.mjs: one check of the cdlens dashboard in Debian's headless Chromium.
//
//   node pages.mjs --base URL --token TOKEN --out DIR --check NAME
//                  [--markup-service S --markup-description D]
//
// Run by tests/e2e/test_pages.c against a server loaded with tests/data/scenarios/checkout.jsonl
// (2026-03-02, environment "prod") plus a service and an incident named with HTML markup.
// Every page visited must load without console errors, uncaught exceptions, failed requests
// or HTTP errors (a CSP violation is a console error). Figures shown on a page are read from
// their data-figure/data-value attributes and compared with the JSON API's answer for the
// same parameters. Screenshots (1280x800 and 390x844) go to DIR. Exit 0: the check passed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const base = args.base, out = args.out;
mkdirSync(out, { recursive: true });

const DAY = 'from=2026-03-02&to=2026-03-02';          // the page's form: whole days, to inclusive
const API_DAY = 'from=2026-03-02T00:00:00.000Z&to=2026-03-03T00:00:00.000Z';
const failures = [];
const fail = msg => { failures.push(msg); console.log('FAIL: ' + msg); };
const ok = msg => console.log('ok: ' + msg);
const expect = (cond, msg) => (cond ? ok(msg) : fail(msg));
const equal = (got, want, msg) => expect(JSON.stringify(got) === JSON.stringify(want),
  `${msg} (got ${JSON.stringify(got)}, want ${JSON.stringify(want)})`);

async function api(path) {
  const r = await fetch(base + path);
  if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
         '--disable-background-networking', '--disable-component-update', '--disable-dev-shm-usage'],
});

// A page that records every console error, exception, failed request and HTTP error.
// waitUntil: 'networkidle' unless told ('load' for a page that may never be idle).
async function open(path, viewport, before, waitUntil) {
  const page = await browser.newPage({ viewport: viewport || { width: 1280, height: 800 } });
  if (before) await before(page);
  page.problems = [];
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') page.problems.push(`console.${m.type()}: ${m.text()}`); });
  page.on('pageerror', e => page.problems.push('exception: ' + e.message));
  page.on('requestfailed', r => page.problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', r => { if (r.status() >= 400) page.problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  await page.goto(base + path, { waitUntil: waitUntil || 'networkidle' });
  await page.waitForFunction(() => document.querySelector('main')?.getAttribute('aria-busy') !== 'true');
  return page;
}

function clean(page, what) {
  equal(page.problems, [], `${what}: no console errors, exceptions or failed requests`);
}

async function shoot(page, name) {
  await page.screenshot({ path: `${out}/${name}-1280x800.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200); // charts resize
  await page.screenshot({ path: `${out}/${name}-390x844.png`, fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, `${name}: no horizontal scrolling of the page at phone width (overflow ${overflow}px)`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

// One live refresh of a page whose clock is installed (refresh=5): advance the clock 5 s and
// wait until the page has its answer (a fetch takes no fake time, but real time).
async function tick(page) {
  const before = await page.$eval('#live', l => l.dataset.updated || '');
  await page.clock.runFor(5e3);
  await page.waitForFunction(b => (document.getElementById('live').dataset.updated || '') !== b, before,
    { timeout: 10000 });
}

// The requests a page makes to `pathPrefix` from now on (an array that keeps growing).
function requests(page, pathPrefix) {
  const seen = [];
  page.on('request', r => { if (new URL(r.url()).pathname.startsWith(pathPrefix)) seen.push(r.url()); });
  return seen;
}

// The query of a link on the page (by its text) as {name: [values]}.
async function linkQuery(page, name) {
  const href = await page.getByRole('link', { name, exact: true }).first().getAttribute('href');
  const u = new URL(href, base);
  const q = {};
  for (const [k, v] of u.searchParams) (q[k] = q[k] || []).push(v);
  return { path: u.pathname, q };
}

// WCAG contrast ratio of two CSS colours (rgb()/rgba()/#hex), evaluated in the page.
const contrastInPage = () => {
  window.__contrast = (a, b) => {
    const rgb = c => {
      const x = document.createElement('span');
      x.style.color = c;
      document.body.append(x);
      const m = getComputedStyle(x).color.match(/[\d.]+/g).map(Number);
      x.remove();
      return m;
    };
    const lum = c => {
      const [r, g, b2] = rgb(c).slice(0, 3).map(v => v / 255)
        .map(v => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b2;
    };
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
};

// The long names of 2026-02-10 (test_pages.c posts them)
const LONG_SERVICE = 'long-' + 's'.repeat(245), LONG_DESCRIPTION = 'd'.repeat(3000);
const LONG_DAY = 'from=2026-02-10&to=2026-02-10';

// {figure key: value} of the page, and the same keys from an API object.
const shown = page => page.$$eval('[data-figure]', els => Object.fromEntries(
  els.map(e => [e.dataset.figure, e.dataset.value === '' ? null : Number(e.dataset.value)])));
const fromApi = (obj, keys) => Object.fromEntries(keys.map(k => [k, k.split('.').reduce((o, p) => o[p], obj)]));

// The Gantt chart of `run` on `page`: one bar row per task run plus the run; the axis spans
// the run (its end: finished, else now) with a small margin; every row has a visible bar.
async function gantt(page, run) {
  await page.waitForFunction(() => window.Chart && Chart.getChart('c-gantt'));
  const detail = await api(`/api/v1/pipeline-runs/run?id=${encodeURIComponent(run.id)}&source=${encodeURIComponent(run.source)}`);
  const g = await page.evaluate(() => {
    const c = Chart.getChart('c-gantt');
    const width = k => c.getDatasetMeta(k).data.map(b => (b && Number.isFinite(b.x - b.base) ? Math.abs(b.x - b.base) : 0));
    const queued = width(0), running = width(1);
    return {min: c.scales.x.min, max: c.scales.x.max, rows: c.data.labels.length,
            widths: running.map((w, k) => Math.max(w, queued[k] || 0))};
  });
  equal(g.rows, detail.task_runs.length + 1, `Gantt of ${run.id}: the run and each of its task runs`);
  const first = Date.parse(detail.run.queued_at || detail.run.started_at);
  const last = detail.run.finished_at ? Date.parse(detail.run.finished_at) : Date.now();
  const slack = 0.05 * (last - first) + 60e3;
  expect(g.min <= first && first - g.min <= slack && g.max >= last - 60e3 && g.max - last <= slack,
    `Gantt of ${run.id}: the axis spans the run (${new Date(g.min).toISOString()} – ${new Date(g.max).toISOString()})`);
  expect(g.widths.every(w => w > 5), `Gantt of ${run.id}: every row has a visible bar (widths ${g.widths.map(Math.round)})`);
}

const checks = {
  async overview() {
    const page = await open(`/?${DAY}&refresh=0`);
    const d = await api(`/api/v1/dora?${API_DAY}`);
    const figures = await shown(page);
    expect(Object.keys(figures).length >= 12, `overview shows ${Object.keys(figures).length} figures`);
    equal(figures, fromApi(d, Object.keys(figures)), 'overview figures equal GET /api/v1/dora');
    const tiers = await page.$$eval('.card .tier', els => els.map(e => e.dataset.tier || null));
    equal(tiers, [d.deployment_frequency.tier, d.lead_time.tier, d.change_failure_rate.tier, d.recovery_time.tier],
      'tiers equal the API\'s');
    const s = await api(`/api/v1/dora/services?${API_DAY}`);
    const ranked = await page.$$eval('#ranking tbody tr', trs => trs.map(t => t.dataset.service).sort());
    equal(ranked, s.services.map(x => x.service).sort(), 'ranking lists the API\'s services');
    expect(await page.locator('canvas').count() === 4, 'four trend charts');
    clean(page, 'overview');
    await shoot(page, 'overview');
  },

  async filters() {
    const page = await open(`/?${DAY}&refresh=0`);
    const before = await shown(page);
    await page.selectOption('#f-service', ['cart']);
    await Promise.all([page.waitForURL(/service=cart/), page.click('form.filters button[type=submit]')]);
    await page.waitForSelector('[data-figure]');
    const url = new URL(page.url());
    equal(url.searchParams.getAll('service'), ['cart'], 'the filter is kept in the URL');
    const after = await shown(page);
    const d = await api(`/api/v1/dora?${API_DAY}&service=cart`);
    equal(after, fromApi(d, Object.keys(after)), 'filtered figures equal GET /api/v1/dora?service=cart');
    expect(after['deployment_frequency.deployments'] !== before['deployment_frequency.deployments'],
      `the filter changed the figures (${before['deployment_frequency.deployments']} -> ${after['deployment_frequency.deployments']} deployments)`);
    const env = await open(`/?${DAY}&environment=prod&refresh=0`);
    const de = await api(`/api/v1/dora?${API_DAY}&environment=prod`);
    const fe = await shown(env);
    equal(fe, fromApi(de, Object.keys(fe)), 'environment filter: figures equal the API\'s');
    clean(page, 'filtered overview');
    clean(env, 'overview by environment');
  },

  async keyboard() {
    const page = await open(`/?${DAY}&refresh=0`);
    // Tab from the top reaches the navigation, every filter control and Apply, in order
    const reached = [];
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim()));
    }
    for (const id of ['f-days', 'f-from', 'f-to', 'f-service', 'f-environment', 'Apply'])
      expect(reached.includes(id), `Tab reaches ${id}`);
    // a ranking column sorts from the keyboard
    const header = page.locator('#ranking thead th').nth(2);
    await header.locator('button').focus();
    await page.keyboard.press('Enter');
    equal(await page.locator('#ranking thead th').nth(2).getAttribute('aria-sort'), 'descending',
      'Enter on a column header sorts by it');
    equal(await page.evaluate(() => document.activeElement.closest('#ranking thead th')?.cellIndex ?? document.activeElement.tagName),
      2, 'after sorting, the keyboard focus stays on that column\'s button');
    await page.keyboard.press('Enter');
    equal(await page.locator('#ranking thead th').nth(2).getAttribute('aria-sort'), 'ascending',
      'Enter again sorts the other way, from the same button');
    clean(page, 'keyboard');
  },

  async 'lead-time'() {
    const page = await open(`/lead-time?${DAY}&refresh=0`);
    const d = await api(`/api/v1/dora?${API_DAY}`);
    const figures = await shown(page);
    equal(figures, fromApi(d, ['lead_time.changes', 'lead_time.median_seconds', 'lead_time.p90_seconds']),
      'lead time figures equal GET /api/v1/dora');
    const c = await api(`/api/v1/changes?${API_DAY}`);
    const median = v => { v = v.filter(x => x !== null && x !== undefined).sort((a, b) => a - b);
      if (!v.length) return null; const r = 0.5 * (v.length - 1), lo = Math.floor(r);
      return lo + 1 >= v.length ? v[lo] : v[lo] + (r - lo) * (v[lo + 1] - v[lo]); };
    const stages = await page.$$eval('#stages tbody tr', trs => Object.fromEntries(
      trs.map(t => [t.dataset.stage, t.dataset.median === '' ? null : Number(t.dataset.median)])));
    const want = Object.fromEntries(Object.keys(stages).map(k => [k, median(c.changes.map(x => x.stages?.[k + '_seconds']))]));
    equal(stages, want, 'stage medians equal those of GET /api/v1/changes\' rows');
    expect(Object.values(stages).some(v => v !== null), 'at least one stage is known');
    const counts = (await page.$eval('figure[data-counts]', f => f.dataset.counts)).split(',').map(Number);
    equal(counts.reduce((a, b) => a + b, 0), c.changes.length, 'the histogram counts every change');
    equal(await page.locator('#changes tbody tr').count(), Math.min(c.changes.length, 50), 'slowest changes listed');
    clean(page, 'lead time');
    await shoot(page, 'lead-time');
  },

  async deployments() {
    const page = await open(`/deployments?${DAY}&refresh=0`);
    const d = await api(`/api/v1/deployments?${API_DAY}`);
    equal(await page.locator('#deployments tbody tr').count(), d.deployments.length,
      'one row per deployment of GET /api/v1/deployments');
    equal(await page.locator('#deployments tbody tr.failed').count(), d.deployments.filter(x => x.failed).length,
      'failed deployments marked');
    // select the first deployment on the timeline: its trace opens
    const first = d.deployments.find(x => x.kind !== 'rolledback');
    const pos = await page.evaluate(() => {
      const chart = Chart.getChart('c-timeline');
      const p = chart.getDatasetMeta(0).data[0];
      const r = chart.canvas.getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    });
    await Promise.all([page.waitForURL(/\/trace\?/), page.mouse.click(pos.x, pos.y)]);
    const u = new URL(page.url());
    equal([u.searchParams.get('deployment'), u.searchParams.get('source')], [first.event.id, first.event.source],
      'selecting a timeline point opens that deployment\'s trace');
    await page.waitForSelector('#steps');
    clean(page, 'deployments and the trace it opened');
    const again = await open(`/deployments?${DAY}&refresh=0&failed=1`);
    equal(await again.locator('#deployments tbody tr').count(), d.deployments.filter(x => x.failed).length,
      'failed=1 lists the failed deployments only');
    await shoot(again, 'deployments');
    clean(again, 'deployments (failed only)');
  },

  async pipelines() {
    const page = await open(`/pipelines?${DAY}&refresh=0`);
    const runs = await api(`/api/v1/pipeline-runs?${API_DAY}`);
    equal(await page.locator('#runs tbody tr').count(), runs.runs.length, 'one row per pipeline run of the API');
    expect(runs.runs.length > 1, 'the scenario has pipeline runs');
    equal(await page.locator('#pipelines tbody tr').count(), runs.pipelines.length, 'one summary row per pipeline');
    const total = runs.pipelines.reduce((n, p) => n + p.runs, 0);
    expect((await page.locator('p.window').innerText()).includes(`${total} run`), `the header counts the window's ${total} runs`);
    // by default the newest run: x-run, only queued so far (test_pages.c), drawn from its queue time to now
    const newest = runs.runs[0];
    equal(newest.id, 'x-run', 'the newest run is the queued-only one');
    await gantt(page, newest);
    expect((await page.locator('#h-gantt').innerText()).includes('queued'), 'a run not started yet is shown as queued');
    clean(page, 'pipelines');

    // a finished run with task runs, chosen by run= and run_source=
    const done = runs.runs.find(r => r.id === 'pr-1');
    const chosen = await open(`/pipelines?${DAY}&refresh=0&run=pr-1&run_source=${encodeURIComponent(done.source)}`);
    await gantt(chosen, done);
    equal(await chosen.locator('#runs tbody tr[aria-current="true"]').getAttribute('data-run'), 'pr-1', 'the chosen run is marked in the list');
    clean(chosen, 'pipelines (pr-1)');
    await shoot(chosen, 'pipelines');

    // a stale run link: the list is still drawn, with a note
    const stale = await open(`/pipelines?${DAY}&refresh=0&run=gone&run_source=/nowhere`);
    equal(await stale.locator('#runs tbody tr').count(), runs.runs.length, 'a stale run link still shows the list');
    expect(await stale.locator('p.error').count() === 1, 'and says the run cannot be shown');
    equal(stale.problems.filter(x => !x.includes('HTTP 404') && !x.includes('404 (Not Found)')), [],
      'stale link: nothing fails but the 404 of the missing run');

    // a trace's "timeline" link opens that run, whatever the page's window
    const trace = await open('/trace?change=101&repository=github.com/acme/shop&refresh=0');
    const t = await api('/api/v1/trace?change=101&repository=github.com/acme/shop');
    expect(t.pipeline_runs.length > 0, 'change 101 has a pipeline run in its trace');
    await Promise.all([trace.waitForNavigation(), trace.getByRole('link', { name: 'timeline' }).first().click()]);
    await trace.waitForFunction(() => window.Chart && Chart.getChart('c-gantt'));
    expect((await trace.locator('#h-gantt').textContent()).includes(t.pipeline_runs[0].id),
      `the linked run ${t.pipeline_runs[0].id} is drawn`);
    expect(new URL(trace.url()).searchParams.get('run_source') !== null, 'the link names the run and its source');
    clean(trace, 'pipelines from a trace');
  },

  async trace() {
    const q = 'change=103&repository=github.com/acme/shop';
    const page = await open(`/trace?${q}&refresh=0`);
    const t = await api(`/api/v1/trace?${q}`);
    const steps = await page.$$eval('#steps li.step', lis => lis.map(l => `${l.dataset.kind} ${l.dataset.key}`));
    const want = [
      ...t.changes.map(c => `change ${c.key}`), ...t.builds.map(b => `build ${b.id}`),
      ...t.artifacts.map(a => `artifact ${a.purl}`), ...t.pipeline_runs.map(p => `pipeline_run ${p.id}`),
      ...t.environments.flatMap(e => e.deployments.flatMap(d => [`deployment ${d.key}`,
        ...d.incidents.map(i => `incident ${i.id}`), ...(d.rolled_back_by ? [`rollback ${d.rolled_back_by.id}`] : [])])),
    ];
    for (const w of want) expect(steps.includes(w), `trace shows ${w}`);
    equal(['change', 'build', 'artifact', 'deployment', 'incident', 'rollback'].every(k => steps.some(s => s.startsWith(k + ' '))),
      true, 'the chain of change 103 is complete: change, build, artifact, deployment, incident, rollback');
    const times = await page.$$eval('#steps li.step time', ts => ts.map(t => t.textContent));
    equal(times, times.slice().sort(), 'steps in time order');
    expect(await page.locator('#steps li.gap').count() >= steps.length - 1, 'the time between steps is shown');
    clean(page, 'trace');
    await shoot(page, 'trace');
  },

  async markup() {
    const service = args['markup-service'], description = args['markup-description'];
    // [page, texts from events it must show as text]
    const pages = [[`/?${DAY}&refresh=0`, [service]], [`/deployments?${DAY}&refresh=0`, [service]],
                   [`/trace?deployment=x-1&source=/e2e&refresh=0`, [service, description]],
                   [`/pipelines?${DAY}&refresh=0`, [service]], [`/lead-time?${DAY}&refresh=0`, []]];
    for (const [path, texts] of pages) {
      const page = await open(path);
      const text = await page.evaluate(() => document.body.innerText);
      for (const t of texts) expect(text.includes(t), `${path}: ${JSON.stringify(t)} is shown as text`);
      equal(await page.evaluate(() => window.__xss), undefined, `${path}: no injected script ran`);
      equal(await page.locator('main img, main script, main b').count(), 0, `${path}: no element made from event text`);
      equal(await page.locator('a[href^="javascript"], a[href^="data:"]').count(), 0, `${path}: no link to an event's javascript: URL`);
      clean(page, path);
      if (path.startsWith('/trace')) await shoot(page, 'markup-trace');
    }
  },

  async empty() {
    for (const path of ['/?from=2020-01-01&to=2020-01-31&refresh=0', '/lead-time?from=2020-01-01&to=2020-01-31&refresh=0',
                        '/deployments?from=2020-01-01&to=2020-01-31&refresh=0', '/pipelines?from=2020-01-01&to=2020-01-31&refresh=0']) {
      const page = await open(path);
      expect(await page.locator('[data-empty]').count() === 1, `${path}: says what to send to see data`);
      expect((await page.locator('[data-empty]').innerText()).includes('/api/v1/events'), `${path}: names the ingest endpoint`);
      clean(page, path);
    }
    const page = await open('/?from=2020-01-01&to=2020-01-31&refresh=0');
    await shoot(page, 'empty');
  },

  async live() {
    const page = await open(`/?${DAY}&refresh=5`);
    await page.evaluate(() => { window.__notReloaded = true; });
    const before = (await shown(page))['deployment_frequency.deployments'];
    await page.locator('#ranking thead th').nth(0).locator('button').focus();
    await page.keyboard.press('Enter'); // by service, A to Z
    const event = {
      context: { specversion: '0.4.1', id: 'live-1', source: '/e2e', type: 'dev.cdevents.service.deployed.0.2.0',
                 timestamp: '2026-03-02T13:00:00Z' },
      subject: { id: 'live-service', source: '/e2e', content: { environment: { id: 'prod' }, artifactId: 'pkg:npm/live@1.0.0' } },
    };
    const r = await fetch(base + '/api/v1/events', { method: 'POST', body: JSON.stringify(event),
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + args.token } });
    equal(r.status, 202, 'a new deployment event is accepted');
    await page.waitForFunction(n => Number(document.querySelector('[data-figure="deployment_frequency.deployments"]')?.dataset.value) === n + 1,
      before, { timeout: 20000 }).then(() => ok('the page shows the new deployment without a reload'),
      () => fail('the page did not update within 20 s'));
    equal(await page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
    equal(await page.locator('#ranking thead th').nth(0).getAttribute('aria-sort'), 'ascending',
      'the live update kept the chosen sort');
    const services = await page.$$eval('#ranking tbody tr', trs => trs.map(t => t.dataset.service));
    equal(services, services.slice().sort(), 'and the rows are in that order');
    equal(await page.evaluate(() => document.activeElement.closest('#ranking thead th')?.cellIndex ?? null), 0,
      'and the sort button that had the focus has it again');
    equal(await page.evaluate(() => [Object.keys(Chart.instances).length, document.querySelectorAll('canvas').length]
      .join(' charts, ') + ' canvases'), await page.evaluate(() => {
        const n = document.querySelectorAll('canvas').length;
        return `${n} charts, ${n} canvases`;
      }), 'redraws destroy the charts they replace');
    clean(page, 'live overview');
  },

  // The overview's drill-down links carry the page's own window (item: drill-down keeps the
  // window), and the drilled page's form keeps failed=1 and refresh= across Apply.
  async drilldown() {
    const page = await open('/?from=2026-03-01&to=2026-03-05&refresh=0');
    const l = await linkQuery(page, 'failed deployments');
    equal(l, { path: '/deployments', q: { from: ['2026-03-01'], to: ['2026-03-05'], refresh: ['0'], failed: ['1'] } },
      'the failed deployments link carries the page\'s from/to as given');
    const d = await api('/api/v1/deployments?from=2026-03-01T00:00:00Z&to=2026-03-06T00:00:00Z');
    const failed = d.deployments.filter(x => x.failed).length;
    expect(failed > 0, `the window has failed deployments (${failed})`);
    await Promise.all([page.waitForURL(/\/deployments\?/), page.getByRole('link', { name: 'failed deployments', exact: true }).first().click()]);
    await page.waitForSelector('#deployments');
    equal([await page.inputValue('#f-from'), await page.inputValue('#f-to')], ['2026-03-01', '2026-03-05'],
      'the drilled page\'s form shows the same days');
    equal(await page.locator('#deployments tbody tr').count(), failed, 'and lists the failed deployments of that window');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    await page.waitForSelector('#deployments');
    const u = new URL(page.url());
    equal([u.searchParams.get('from'), u.searchParams.get('to'), u.searchParams.get('failed'), u.searchParams.get('refresh')],
      ['2026-03-01', '2026-03-05', '1', '0'], 'Apply keeps the window, failed=1 and refresh=');
    equal(await page.locator('#deployments tbody tr').count(), failed, 'and still lists the failed deployments only');
    const all = await linkQuery(page, 'show all');
    equal(all.q, { from: ['2026-03-01'], to: ['2026-03-05'], refresh: ['0'] }, '"show all" keeps the window, drops failed=1');
    clean(page, 'drill-down to failed deployments');

    const rel = await open(`/?days=3660&refresh=0`); // up to now: the scenario's day included
    for (const [name, path, extra] of [['breakdown', '/lead-time', {}], ['deployments', '/deployments', {}],
                                       ['rework deployments', '/deployments', { rework: ['1'] }]])
      equal(await linkQuery(rel, name), { path, q: { days: ['3660'], refresh: ['0'], ...extra } },
        `from days=3660, the ${name} link stays relative (days=, no from/to)`);
    clean(rel, 'drill-down links of a relative window');
  },

  // refresh= is clamped to 5..86400 s (0: off), and showing a page again does not query when
  // updates are off.
  async refresh() {
    const pages = [];
    for (const r of ['2147484', '1', '0']) {
      const page = await open(`/?${DAY}&refresh=${r}`, null, null, 'load');
      await page.waitForSelector('[data-figure]');
      pages.push([r, page, requests(page, '/api/v1/dora')]);
    }
    await pages[2][1].evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await new Promise(r => setTimeout(r, 3000));
    for (const [r, page, seen] of pages) {
      equal(seen.length, 0, `refresh=${r}: no request in the 3 s after loading` +
        (r === '0' ? ' (the page shown again included)' : ''));
      clean(page, `refresh=${r}`);
    }
  },

  // The Window select: choosing "last N days" empties From and To, typing a From date sets it
  // to "from – to"; it shows the days the page shows (days=0 and days=5000 out of range).
  async window() {
    const page = await open('/?from=2026-03-01&to=2026-03-05&refresh=0');
    equal(await page.inputValue('#f-days'), '', 'a from/to window shows "from – to"');
    await page.selectOption('#f-days', '7');
    equal([await page.inputValue('#f-from'), await page.inputValue('#f-to')], ['', ''], 'choosing last 7 days empties From and To');
    await Promise.all([page.waitForNavigation(), page.click('form.filters button[type=submit]')]);
    await page.waitForSelector('main h1');
    const u = new URL(page.url());
    equal([...u.searchParams.keys()].sort(), ['days', 'refresh'], 'Apply: the last 7 days (no from/to left)');
    await page.fill('#f-from', '2026-03-01');
    equal(await page.inputValue('#f-days'), '', 'typing a From date sets the window to "from – to"');
    clean(page, 'window select');
    for (const [days, want] of [['0', '1'], ['5000', '3660'], ['abc', '30']]) {
      const p = await open(`/?days=${days}&refresh=0`);
      equal(await p.inputValue('#f-days'), want, `days=${days}: the Window select shows last ${want} days`);
      const text = await p.locator('p.window').innerText();
      expect(text.includes(`(${want} day`), `days=${days}: and the page shows ${want} days (${text.slice(0, 60)}…)`);
      clean(p, `days=${days}`);
    }
  },

  // The filters offer every service, environment and pipeline of the window, not only the
  // chosen ones.
  async options() {
    const s = await api(`/api/v1/dora/services?${API_DAY}`);
    const services = s.services.map(x => x.service).sort(), envs = s.filters.environments.slice().sort();
    expect(services.length >= 3, `the day has several services (${services.length})`);
    for (const path of [`/?${DAY}&service=cart&refresh=0`, `/lead-time?${DAY}&service=cart&refresh=0`,
                        `/deployments?${DAY}&service=cart&environment=prod&refresh=0`]) {
      const page = await open(path);
      const offered = await page.$$eval('#f-service option', os => os.map(o => o.value).sort());
      equal(offered, services, `${path}: Services offers every service of the window`);
      equal(await page.$$eval('#f-service option:checked', os => os.map(o => o.value)), ['cart'], `${path}: cart is chosen`);
      equal(await page.$$eval('#f-environment option', os => os.map(o => o.value).sort()), envs,
        `${path}: Environments offers every production environment`);
      clean(page, path);
    }
    const runs = await api(`/api/v1/pipeline-runs?${API_DAY}`);
    const names = runs.pipelines.map(p => p.pipeline).filter(Boolean).sort();
    expect(names.length >= 2, `the day has several pipelines (${names.length})`);
    const page = await open(`/pipelines?${DAY}&pipeline=shop-ci&refresh=0`);
    equal(await page.$$eval('#f-pipeline option', os => os.map(o => o.value).sort()), names,
      'Pipelines offers every pipeline of the window');
    equal(await page.locator('#runs tbody tr').count(), runs.runs.filter(r => r.pipeline === 'shop-ci').length,
      'while the list shows shop-ci\'s runs only');
    clean(page, 'pipelines filtered');
  },

  // The trace lookup sends the selector typed in, not the URL's one beside it.
  async lookup() {
    const page = await open('/trace?deployment=d-prod-1&source=/argocd&from=2026-03-01&refresh=0');
    equal(await page.locator('#t-source').count() ? await page.inputValue('#t-source') : null, '/argocd',
      'the form has the deployment\'s source');
    await page.fill('#t-change', '101');
    await page.fill('#t-repository', 'github.com/acme/shop');
    await Promise.all([page.waitForURL(/change=101/), page.getByRole('button', { name: 'Trace' }).click()]);
    await page.waitForSelector('#steps li.step');
    const u = new URL(page.url());
    equal(Object.fromEntries(u.searchParams), { change: '101', repository: 'github.com/acme/shop', from: '2026-03-01', refresh: '0' },
      'only the typed selector is sent (and the window and refresh are kept)');
    expect(await page.locator('#steps li.step[data-kind="change"]').count() > 0, 'the change is traced');
    clean(page, 'trace lookup');
  },

  // Screen readers hear errors and new data, not every refresh; a request that hangs is
  // given up and the page says it is stale, then recovers.
  async stale() {
    const page = await open(`/?${DAY}&refresh=5`, null, p => p.clock.install({ time: Date.now() }));
    // the filter choices' own request (serviceOptions()) must be answered before the fake
    // clock jumps, or its timeout gives it up as well
    await page.waitForLoadState('networkidle');
    await page.evaluate(() => {
      window.__announced = [];
      const watch = new MutationObserver(() => {
        for (const n of document.querySelectorAll('[aria-live], [role=status], [role=alert]'))
          window.__announced.push(n.textContent);
      });
      for (const n of document.querySelectorAll('[aria-live], [role=status]'))
        watch.observe(n, { childList: true, characterData: true, subtree: true });
    });
    const t0 = await page.$eval('#live', l => l.textContent);
    for (let k = 0; k < 3; k++) await tick(page);
    expect(await page.$eval('#live', l => l.textContent) !== t0, 'the header shows the time of the latest update');
    equal(await page.evaluate(() => window.__announced), [], 'three refreshes with no new data announce nothing');
    equal(await page.$$eval('[aria-live], [role=status]', ns => ns.map(n => n.textContent).join('')), '',
      'the time of the update is outside the live region');

    let hold = true;
    const held = [];
    await page.route(/\/api\/v1\/dora\?/, r => (hold ? held.push(r) : r.continue()));
    await page.clock.runFor(5e3);
    await page.waitForFunction(() => true);
    for (let i = 0; i < 50 && !held.length; i++) await page.waitForTimeout(100);
    equal(held.length, 1, 'the next refresh\'s request hangs');
    await page.clock.runFor(10e3);
    await page.waitForFunction(() => document.getElementById('live').dataset.stale === 'true', null, { timeout: 5000 })
      .then(() => ok('after 10 s without an answer the page is marked stale'),
            () => fail('a hung request left the page updating never and saying nothing'));
    const note = await page.$eval('#live .live-note', n => n.textContent);
    expect(/not updated since .*did not answer within 10 s/.test(note), `and says so in the live region (${note})`);
    hold = false;
    await tick(page);
    equal(await page.$eval('#live', l => l.dataset.stale || ''), '', 'the next answer clears the stale mark');
    equal(await page.evaluate(() => window.__announced.length), 2, 'announced: the stale page, then the recovery');
    // given up: the held request, and any other the clock's 10 s jump caught in flight (the
    // services ranking's /dora/services, asked with each refresh beside /dora)
    equal(page.problems.filter(p => !/request failed: .*\/api\/v1\/dora[?/].*ERR_ABORTED/.test(p)), [],
      'stale: nothing fails but requests given up');
  },

  // Long names without spaces (test_pages.c, 2026-02-10) neither widen the page nor the filters.
  async long() {
    const paths = [`/?${LONG_DAY}&refresh=0`, `/deployments?${LONG_DAY}&refresh=0`, `/pipelines?${LONG_DAY}&refresh=0`,
                   `/lead-time?${LONG_DAY}&refresh=0`, '/trace?deployment=long-1&source=/e2e&refresh=0'];
    for (const path of paths) {
      const page = await open(path);
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 800 });
        await page.waitForTimeout(100);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow <= 1, `${path} at ${width} px: no horizontal scrolling (overflow ${overflow}px)`);
      }
      await page.setViewportSize({ width: 1280, height: 800 });
      const widest = await page.$$eval('form.filters select', ss => Math.max(0, ...ss.map(x => x.getBoundingClientRect().width)));
      expect(widest <= 300, `${path}: the filter selects stay narrow (${Math.round(widest)} px)`);
      const names = await page.$$eval('.name', ns => ns.map(n => [n.title, n.getBoundingClientRect().width]));
      if (!path.startsWith('/trace') && !path.startsWith('/lead-time')) {
        const long = names.find(([t]) => t === LONG_SERVICE);
        expect(long && long[1] <= 330, `${path}: the long name is cut (${long && Math.round(long[1])} px) with all of it in its title`);
      }
      if (path.startsWith('/trace'))
        expect((await page.locator('#steps').innerText()).includes(LONG_DESCRIPTION), 'the long description is shown whole');
      clean(page, path);
      if (path.startsWith('/trace')) await shoot(page, 'long-trace');
    }
  },

  // Colours: the "no data" badge's text, the focus ring, the Gantt chart's queued bar.
  async contrast() {
    const page = await open(`/?${DAY}&refresh=0`);
    await page.evaluate(contrastInPage);
    const badge = await page.evaluate(() => {
      const b = cdlens.tierBadge(null);
      document.querySelector('main').append(b);
      const s = getComputedStyle(b);
      return window.__contrast(s.color, s.backgroundColor);
    });
    expect(badge >= 4.5, `the "no data" badge's text: ${badge.toFixed(2)}:1 (4.5 needed)`);
    await page.keyboard.press('Tab'); // the brand link, on the dark header
    const ring = await page.evaluate(() => {
      const a = document.activeElement, s = getComputedStyle(a);
      return [s.outlineStyle, window.__contrast(s.outlineColor, getComputedStyle(a.closest('header')).backgroundColor),
              window.__contrast(s.outlineColor, getComputedStyle(document.body).backgroundColor)];
    });
    expect(ring[0] !== 'none' && ring[1] >= 3 && ring[2] >= 3,
      `the focus ring: ${ring[1].toFixed(2)}:1 on the header, ${ring[2].toFixed(2)}:1 on the page (3 needed)`);
    clean(page, 'contrast (overview)');
    const runs = await api(`/api/v1/pipeline-runs?${API_DAY}`);
    const done = runs.runs.find(r => r.id === 'pr-1');
    const gantt = await open(`/pipelines?${DAY}&refresh=0&run=pr-1&run_source=${encodeURIComponent(done.source)}`);
    await gantt.waitForFunction(() => window.Chart && Chart.getChart('c-gantt'));
    await gantt.evaluate(contrastInPage);
    const queued = await gantt.evaluate(() => window.__contrast(Chart.getChart('c-gantt').data.datasets[0].backgroundColor, '#fff'));
    expect(queued >= 3, `the Gantt chart's queued bar on white: ${queued.toFixed(2)}:1 (3 needed)`);
    clean(gantt, 'contrast (Gantt)');
  },

  // Rounded days; a URL the API refuses still has its filter form.
  async details() {
    const odd = await open('/?from=2026-03-01T00:00:00Z&to=2026-03-23T21:00:00Z&refresh=0');
    const text = await odd.locator('p.window').innerText();
    expect(text.includes('(23 days)') && !text.includes('22.875'), `a 22.875-day window is shown as 23 days (${text.slice(0, 70)}…)`);
    clean(odd, 'rounded days');

    const bad = await open(`/?${DAY}&bucket=hour&refresh=0`);
    expect(await bad.locator('main [role=alert]').count() === 1, 'bucket=hour: the page says why it cannot load');
    expect(await bad.locator('form.filters #f-bucket').count() === 1, 'and still draws the filter form');
    await Promise.all([bad.waitForURL(u => !u.searchParams.has('bucket')), bad.click('form.filters button[type=submit]')]);
    await bad.waitForSelector('[data-figure]');
    ok('choosing another bucket and Apply loads the page');
    equal(bad.problems.filter(p => !/(HTTP 400|400 \(Bad Request\))/.test(p)), [], 'bucket=hour: nothing fails but the refused query');
  },

  // Links to other pages (and to and from the trace page) keep the window, bucket and refresh.
  async carry() {
    const nav = await open(`/?days=7&bucket=week&refresh=0`);
    equal(await linkQuery(nav, 'Deployments'), { path: '/deployments', q: { days: ['7'], bucket: ['week'], refresh: ['0'] } },
      'the navigation keeps days, bucket and refresh');
    clean(nav, 'navigation');

    const deps = await open(`/deployments?${DAY}&refresh=0`);
    const trace = await linkQuery(deps, 'trace');
    equal([trace.q.from, trace.q.to, trace.q.refresh], [['2026-03-02'], ['2026-03-02'], ['0']], 'a trace link carries the window');
    await Promise.all([deps.waitForURL(/\/trace\?/), deps.getByRole('link', { name: 'trace', exact: true }).first().click()]);
    await deps.waitForSelector('#steps');
    equal((await linkQuery(deps, 'Overview')).q, { from: ['2026-03-02'], to: ['2026-03-02'], refresh: ['0'] },
      'from the trace page the navigation keeps the window');
    clean(deps, 'deployments to trace');
  },

  // A relative window (days=N) moves with the clock: a page left open shows what arrives
  // after the hour it was opened in. The page's clock starts 3 hours behind; an event stamped
  // now is outside its window until the clock catches up.
  async clock() {
    const start = Date.now() - 3 * 3600e3;
    const page = await open('/?days=1&refresh=5', null, p => p.clock.install({ time: start }));
    const before = (await shown(page))['deployment_frequency.deployments'];
    const event = {
      context: { specversion: '0.4.1', id: 'clock-1', source: '/e2e', type: 'dev.cdevents.service.deployed.0.2.0',
                 timestamp: new Date().toISOString() },
      subject: { id: 'clock-service', source: '/e2e', content: { environment: { id: 'prod' }, artifactId: 'pkg:npm/clock@1.0.0' } },
    };
    const r = await fetch(base + '/api/v1/events', { method: 'POST', body: JSON.stringify(event),
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + args.token } });
    equal(r.status, 202, 'a deployment stamped now is accepted');
    await tick(page); // two refreshes: the event is still after the page's window
    await tick(page);
    equal((await shown(page))['deployment_frequency.deployments'], before, 'an event after the window is not counted yet');
    await page.clock.fastForward(3 * 3600e3);
    await page.waitForTimeout(1000); // the refresh fastForward ran gets its answer
    await tick(page);
    await page.waitForFunction(n => Number(document.querySelector('[data-figure="deployment_frequency.deployments"]')?.dataset.value) === n + 1,
      before ?? 0, { timeout: 20000 }).then(() => ok('three hours later the open page counts it'),
      () => fail('the open page never moved its window forward'));
    clean(page, 'clock');
  },
};

try {
  if (!checks[args.check]) throw new Error('unknown check ' + args.check);
  await checks[args.check]();
} catch (e) {
  fail(`${args.check}: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(failures.length ? `pages.mjs ${args.check}: ${failures.length} failed` : `pages.mjs ${args.check}: passed`);
process.exit(failures.length ? 1 : 0);
