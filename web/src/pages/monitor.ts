// The monitor's pages: the dashboard (/checks: every check with a
// response-time sparkline and 90 days of uptime, filtered by group, state
// and label through the URL), a check's page (/checks?id=: history chart,
// uptime, state changes, last failures, "Run now") and the public status
// page (/status).
import { APIError, getJSON, postAs } from '../api';
import { badge, field, h, input, ms, scroller, select, showError, table } from '../dom';
import { shell } from '../shell';

const stateKind: Record<string, string> = { up: 'ok', degraded: 'warn', down: 'fail', pending: 'muted', maintenance: 'muted' };
const states = ['up', 'degraded', 'down', 'pending', 'maintenance'];
const filterKeys = ['group', 'status', 'label'];
// adminKeyItem is where the pasted admin key is kept for this tab only.
const adminKeyItem = 'dnsscience.adminKey';
const DAY = 86400000;
const SVG = 'http://www.w3.org/2000/svg';

function state(s: string): HTMLElement {
  return badge(s, stateKind[s] ?? 'muted');
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

type Day = { at: string; ratio: number | null };

function todayUTC(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

// daysOfBuckets lays daily buckets out on the last n days (UTC), null
// where there were no runs.
function daysOfBuckets(buckets: any[], n = 90): Day[] {
  const byDay = new Map(buckets.map((d) => [d.at.slice(0, 10), d]));
  const today = todayUTC();
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(today - (n - 1 - i) * DAY).toISOString();
    const d = byDay.get(at.slice(0, 10));
    return { at, ratio: d?.runs ? d.passed / d.runs : null };
  });
}

// daysOfRatios dates the list's uptime_days: oldest first, the last today.
function daysOfRatios(ratios: (number | null)[]): Day[] {
  const today = todayUTC();
  return ratios.map((ratio, i) => ({ at: new Date(today - (ratios.length - 1 - i) * DAY).toISOString(), ratio }));
}

// uptimeBars draws one bar per day, coloured by its uptime.
function uptimeBars(days: Day[]): HTMLElement {
  return h('span', { class: 'uptime-bars', role: 'img', 'aria-label': `${days.length} days of uptime` },
    ...days.map((d) => {
      const r = d.ratio;
      const kind = r === null ? 'muted' : r >= 0.999 ? 'ok' : r >= 0.99 ? 'warn' : 'fail';
      return h('span', { class: `bar ${kind}`, title: `${d.at.slice(0, 10)}: ${r === null ? 'no runs' : (100 * r).toFixed(2) + '%'}` });
    }));
}

// sparkline draws the mean response time of each of the last minutes
// (null: no runs) as a line that breaks where there were no runs.
function sparkline(values: (number | null)[]): SVGSVGElement {
  const W = 120, H = 28, pad = 3;
  const nums = values.filter((v): v is number => v !== null);
  const top = Math.max(1, ...nums);
  const x = (i: number) => (pad + (W - 2 * pad) * i / Math.max(values.length - 1, 1)).toFixed(1);
  const y = (v: number) => (H - pad - (H - 2 * pad) * v / top).toFixed(1);
  const last = nums[nums.length - 1];
  const lastAt = values.reduce<number>((at, v, i) => (v === null ? at : i), -1);
  const label = nums.length
    ? `Response time, last ${values.length} minutes: latest ${ms(last)}, slowest ${ms(Math.max(...nums))} (mean per minute)`
    : `No runs in the last ${values.length} minutes`;
  const s = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label, 'data-points': nums.length });
  s.append(svg('title', {}, label), svg('line', { class: 'spark-base', x1: pad, x2: W - pad, y1: H - pad, y2: H - pad }));
  let d = '';
  values.forEach((v, i) => {
    if (v === null) return;
    const joined = i > 0 && values[i - 1] !== null;
    d += `${joined ? 'L' : 'M'}${x(i)},${y(v)}`;
    const alone = !joined && (i === values.length - 1 || values[i + 1] === null);
    if (alone || i === lastAt) s.append(svg('circle', { cx: x(i), cy: y(v), r: 1.8 }));
  });
  if (d) s.insertBefore(svg('path', { d, class: 'spark-line' }), s.querySelector('circle'));
  return s;
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? 10 * p;
}

function hhmm(t: number): string {
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// historyChart draws the mean response time of each minute of the last
// three hours (the minute series) and marks minutes with failed runs in
// red; the line breaks where runs are missing for longer than two intervals.
function historyChart(buckets: any[], intervalSeconds: number, span = 3 * 3600000): SVGSVGElement {
  const W = 720, H = 200, L = 56, R = 10, T = 12, B = 24;
  const now = Date.now(), from = now - span;
  const pts = buckets.map((b) => ({ t: Date.parse(b.at), v: b.mean_ms as number, runs: b.runs as number, failed: b.runs - b.passed }))
    .filter((p) => p.runs > 0 && p.t >= from - 60000).sort((a, b) => a.t - b.t);
  const fails = pts.filter((p) => p.failed > 0);
  const top = niceMax(Math.max(1, ...pts.map((p) => p.v)));
  const x = (t: number) => (L + (W - L - R) * (t - from) / span).toFixed(1);
  const y = (v: number) => (T + (H - T - B) * (1 - v / top)).toFixed(1);
  const label = pts.length
    ? `Response time over the last 3 hours: ${pts.length} minutes with runs, ${fails.length} with failed runs`
    : 'No runs in the last 3 hours';
  const s = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, 'data-points': pts.length, 'data-failures': fails.length });
  s.append(svg('title', {}, label));
  const grid = svg('g', { class: 'grid' });
  for (const v of [0, top / 2, top]) {
    grid.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v) }), svg('text', { x: L - 6, y: Number(y(v)) + 4, 'text-anchor': 'end' }, ms(v)));
  }
  for (let t = Math.ceil(from / 3600000) * 3600000; t <= now; t += 3600000) {
    grid.append(svg('line', { x1: x(t), x2: x(t), y1: T, y2: H - B }), svg('text', { x: x(t), y: H - 6, 'text-anchor': 'middle' }, hhmm(t)));
  }
  s.append(grid);
  const gap = Math.max(120000, 2 * intervalSeconds * 1000);
  const d = pts.map((p, i) => `${i > 0 && p.t - pts[i - 1].t <= gap ? 'L' : 'M'}${x(p.t)},${y(p.v)}`).join('');
  if (d) s.append(svg('path', { d, class: 'line' }));
  for (const p of pts) {
    const mark = svg('circle', { cx: x(p.t), cy: y(p.v), r: p.failed ? 4 : 2, class: p.failed ? 'fail-mark' : 'point' });
    mark.append(svg('title', {}, `${hhmm(p.t)}: ${ms(p.v)} mean, ${p.failed ? `${p.failed} of ${p.runs} runs failed` : `${p.runs} runs passed`}`));
    s.append(mark);
  }
  if (!pts.length) s.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, label));
  return s;
}

// why is what made the last run fail or warn.
function why(last: any): string {
  return last?.error || (last?.failed ?? []).map((f: any) => `${f.condition} (got ${f.actual})`).join('; ');
}

// filtersForm edits the dashboard's filters; applying them loads the page
// with them in the query string, so a filtered view can be linked.
function filtersForm(params: URLSearchParams, all: any[]): HTMLFormElement {
  const groups = [...new Set([...all.map((c) => c.group ?? ''), params.get('group') ?? ''].filter(Boolean))].sort();
  const labels = [...new Set(all.flatMap((c) => Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`)))].sort();
  const group = select('group', [['', 'Any group'], ...groups], params.get('group') ?? '');
  const status = select('status', [['', 'Any state'], ...states], params.get('status') ?? '');
  const label = input('label', { value: params.get('label') ?? '', placeholder: 'name=value', list: 'check-labels', 'aria-describedby': 'f-label-hint' });
  const filtered = filterKeys.some((k) => params.get(k));
  const form = h('form', { class: 'tool-form filters', role: 'search', 'aria-label': 'Filter checks', action: '/checks' },
    h('div', { class: 'row' },
      field('Group', group), field('State', status), field('Label', label, 'name=value, as in the suite file'),
      h('datalist', { id: 'check-labels' }, ...labels.map((l) => h('option', { value: l }))),
      h('div', { class: 'filter-actions' }, h('button', { class: 'primary', type: 'submit' }, 'Filter'),
        filtered ? h('a', { href: '/checks', class: 'clear' }, 'Clear filters') : null)));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of filterKeys) {
      const v = String(new FormData(form).get(k) ?? '').trim();
      if (v) q.set(k, v);
    }
    location.assign(q.toString() ? `/checks?${q}` : '/checks');
  });
  for (const sel of [group, status]) sel.addEventListener('change', () => form.requestSubmit());
  return form;
}

export async function checks(root: HTMLElement): Promise<void> {
  const params = new URLSearchParams(location.search);
  const id = params.get('id');
  if (id) return checkPage(root, id);
  const out = h('div', {});
  root.replaceChildren(shell('/checks', 'Checks', 'Every watched check: state, response time, 90 days of uptime and where it fails.', out));
  const q = new URLSearchParams();
  for (const k of filterKeys) if (params.get(k)) q.set(k, params.get(k)!);
  const filtered = q.toString() !== '';
  // Filtered, the whole list is read too, for the filters' choices.
  const [r, all] = await Promise.allSettled([getJSON<any>(filtered ? `/api/v1/checks?${q}` : '/api/v1/checks'),
    filtered ? getJSON<any>('/api/v1/checks') : Promise.resolve(null)]);
  const choices = (all.status === 'fulfilled' && all.value) || (r.status === 'fulfilled' ? r.value : { checks: [] });
  const form = filtersForm(params, choices.checks ?? []);
  const box = h('div', {});
  out.replaceChildren(form, box);
  if (r.status === 'rejected') return showError(box, r.reason, form);
  const list = r.value;
  const errs = (list.errors ?? []).map((e: any) => h('div', { class: 'alert error', role: 'alert' }, `${e.file}: ${e.error}`));
  const n = list.checks.length;
  const count = h('p', { class: 'muted count', role: 'status' }, n
    ? `${n} check${n === 1 ? '' : 's'}${filtered ? (n === 1 ? ' matches these filters' : ' match these filters') : ''}.`
    : filtered ? 'No check matches these filters.' : 'No checks are watched.');
  box.replaceChildren(...errs, count, n ? scroller(table(['State', 'Check', 'Group', 'Kind', 'Response, 60 min', '90 days', 'Last run', 'Duration', 'Why'],
    list.checks.map((c: any) => [state(c.status), h('a', { href: `/checks?id=${encodeURIComponent(c.id)}` }, c.name), c.group ?? '', c.kind,
      sparkline(c.spark ?? []), uptimeBars(daysOfRatios(c.uptime_days ?? [])),
      c.last ? new Date(c.last.at).toLocaleTimeString() : '–', c.last ? ms(c.last.duration_ms) : '–', why(c.last)]), 'checks'), 'Checks') : '');
}

// lastRun describes a check's last run (data-at: its time, for tests and scripts).
function lastRun(c: any): HTMLElement {
  return h('p', { class: 'last-run', 'data-at': c.last?.at ?? '' }, h('strong', {}, 'Last run: '), c.last
    ? `${new Date(c.last.at).toLocaleString()} · ${c.last.outcome} in ${ms(c.last.duration_ms)}${why(c.last) ? ` · ${why(c.last)}` : ''}`
    : 'none yet');
}

// refused shows why the server refused a run: no key (401) or not an
// admin key (403), plainly; other errors as everywhere else.
function refused(box: HTMLElement, err: unknown): void {
  if (!(err instanceof APIError) || (err.problem.status !== 401 && err.problem.status !== 403)) return showError(box, err);
  const p = err.problem;
  const lead = p.status === 401 ? 'An admin API key is needed' : 'This API key is not an admin key';
  box.replaceChildren(h('div', { class: 'alert error', role: 'alert', 'data-status': p.status }, h('strong', {}, `${lead} (${p.status}). `), p.detail ?? ''));
}

// waitForRun polls the check until its last run is newer than before;
// null when none comes within the deadline.
async function waitForRun(enc: string, before: string | undefined, deadline = Date.now() + 30000): Promise<any | null> {
  while (Date.now() < deadline) {
    const c = await getJSON<any>(`/api/v1/checks/${enc}`);
    if (c.last && c.last.at !== before) return c;
    await new Promise((res) => setTimeout(res, 500));
  }
  return null;
}

// runNow is the "Run now" form: an admin key (kept in sessionStorage for
// this tab) sent as Authorization: Bearer; on success the page is drawn
// again with the new run.
function runNow(root: HTMLElement, c: any, notice?: HTMLElement): HTMLElement {
  const enc = encodeURIComponent(c.id);
  const key = input('admin_key', { type: 'password', value: sessionStorage.getItem(adminKeyItem) ?? '', placeholder: 'dss_…' });
  const btn = h('button', { class: 'primary', type: 'submit' }, 'Run now');
  const msg = h('div', { class: 'run-msg' }, notice ?? null);
  const form = h('form', { class: 'tool-form run-now', 'aria-label': 'Run now' },
    h('div', { class: 'row' }, field('Admin API key', key, 'Kept in this tab only (sessionStorage). Make one with: dnsscience apikey create NAME --admin'), btn), msg);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const k = key.value.trim();
    if (k) sessionStorage.setItem(adminKeyItem, k);
    else sessionStorage.removeItem(adminKeyItem);
    btn.disabled = true;
    msg.replaceChildren(h('div', { class: 'alert', role: 'status' }, h('span', { class: 'spinner' }), ' Asking the server to run it…'));
    try {
      const r = await postAs<{ queued: boolean }>(`/api/v1/checks/${enc}/run`, k);
      msg.replaceChildren(h('div', { class: 'alert', role: 'status' }, h('span', { class: 'spinner' }),
        r.queued ? ' Queued; waiting for the result…' : ' A run is already going; waiting for its result…'));
      const after = await waitForRun(enc, c.last?.at);
      if (!after) {
        msg.replaceChildren(h('div', { class: 'alert warn', role: 'alert' }, 'The run was queued but no result came within 30 s; reload the page later.'));
        return;
      }
      await checkPage(root, c.id, h('div', { class: 'alert ok', role: 'status' },
        h('strong', {}, 'Ran now. '), `${new Date(after.last.at).toLocaleTimeString()}: ${after.last.outcome} in ${ms(after.last.duration_ms)}.`));
    } catch (err) {
      refused(msg, err);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

async function checkPage(root: HTMLElement, id: string, notice?: HTMLElement): Promise<void> {
  const out = h('div', {});
  root.replaceChildren(shell('/checks', id, '', out));
  try {
    const enc = encodeURIComponent(id);
    const [c, tr, res, days, minutes] = await Promise.all([getJSON<any>(`/api/v1/checks/${enc}`), getJSON<any>(`/api/v1/checks/${enc}/transitions?limit=20`),
      getJSON<any>(`/api/v1/checks/${enc}/results?failed=true&limit=20`), getJSON<any>(`/api/v1/checks/${enc}/series?level=day`),
      getJSON<any>(`/api/v1/checks/${enc}/series?level=minute`)]);
    document.title = `${c.name} · dnsscience`;
    root.querySelector('h1')!.textContent = c.name;
    out.replaceChildren(
      h('p', {}, state(c.status), ` ${c.kind} ${c.target} · every ${c.interval_seconds} s · since ${new Date(c.since).toLocaleString()}`),
      lastRun(c), runNow(root, c, notice),
      h('h2', {}, 'Response time'),
      h('p', { class: 'hint' }, 'Mean per minute over the last 3 hours; red marks minutes with failed runs.'),
      historyChart(minutes.buckets, c.interval_seconds),
      h('h2', {}, 'Uptime'), uptimeBars(daysOfBuckets(days.buckets)),
      table(['Window', 'Uptime', 'Runs', 'p50', 'p95', 'p99'], c.uptime.map((u: any) => [u.window,
        u.ratio === null ? '–' : `${(100 * u.ratio).toFixed(3)}%`, u.runs, ms(u.p50_ms ?? undefined), ms(u.p95_ms ?? undefined), ms(u.p99_ms ?? undefined)])),
      h('h2', {}, 'State changes'),
      table(['When', 'From', 'To', 'Why'], tr.transitions.map((t: any) => [new Date(t.at).toLocaleString(), state(t.from), state(t.to), t.reason])),
      h('h2', {}, 'Last failures'),
      table(['When', 'Outcome', 'Evidence'], res.results.map((x: any) => [new Date(x.at).toLocaleString(), x.outcome,
        x.error || (x.evidence?.failed ?? x.evidence?.warned ?? []).map((f: any) => `${f.condition} (got ${f.actual})`).join('; ')])));
  } catch (err) { showError(out, err); }
}

export async function status(root: HTMLElement): Promise<void> {
  const out = h('div', {});
  root.replaceChildren(shell('/status', 'Status', 'Public checks and their last 90 days.', out));
  try {
    const r = await getJSON<any>('/api/v1/status');
    const incidents = r.incidents.length
      ? h('div', { class: 'alert error', role: 'status' }, h('strong', {}, 'Current incidents: '), r.incidents.map((c: any) => `${c.name} (${c.status} since ${new Date(c.since).toLocaleString()})`).join(', '))
      : h('div', { class: 'alert ok', role: 'status' }, 'All systems operational.');
    out.replaceChildren(incidents, ...r.groups.map((g: any) => h('section', {}, h('h2', {}, g.name || 'Checks'),
      table(['State', 'Check', '90 days', 'Uptime'], g.checks.map((c: any) => [state(c.status), c.name, uptimeBars(daysOfBuckets(c.days)),
        c.uptime_90d === null ? '–' : `${(100 * c.uptime_90d).toFixed(2)}%`])))));
  } catch (err) { showError(out, err); }
}
