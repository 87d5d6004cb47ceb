// The monitor's pages: the dashboard (/checks, every check; ?id= shows one
// check with its history) and the public status page (/status).
import { getJSON } from '../api';
import { badge, h, ms, showError, table } from '../dom';
import { shell } from '../shell';

const stateKind: Record<string, string> = { up: 'ok', degraded: 'warn', down: 'fail', pending: 'muted', maintenance: 'muted' };

function state(s: string): HTMLElement {
  return badge(s, stateKind[s] ?? 'muted');
}

// lastDays lays the daily buckets out on the last n days (UTC), empty
// where there were no runs.
function lastDays(days: any[], n = 90): any[] {
  const byDay = new Map(days.map((d) => [d.at.slice(0, 10), d]));
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return Array.from({ length: n }, (_, i) => {
    const at = new Date(today - (n - 1 - i) * 86400000).toISOString();
    return byDay.get(at.slice(0, 10)) ?? { at, runs: 0, passed: 0 };
  });
}

// uptimeBars draws one bar per day of the last 90, coloured by its uptime.
function uptimeBars(buckets: any[]): HTMLElement {
  const days = lastDays(buckets);
  return h('span', { class: 'uptime-bars', role: 'img', 'aria-label': `${days.length} days of uptime` },
    ...days.map((d) => {
      const r = d.runs ? d.passed / d.runs : NaN;
      const kind = Number.isNaN(r) ? 'muted' : r >= 0.999 ? 'ok' : r >= 0.99 ? 'warn' : 'fail';
      return h('span', { class: `bar ${kind}`, title: `${d.at.slice(0, 10)}: ${Number.isNaN(r) ? 'no runs' : (100 * r).toFixed(2) + '%'}` });
    }));
}

export async function checks(root: HTMLElement): Promise<void> {
  const id = new URLSearchParams(location.search).get('id');
  if (id) return checkPage(root, id);
  const out = h('div', {});
  root.replaceChildren(shell('/checks', 'Checks', 'Every watched check: state, last run and where it fails.', out));
  try {
    const r = await getJSON<any>('/api/v1/checks');
    const errs = (r.errors ?? []).map((e: any) => h('div', { class: 'alert error', role: 'alert' }, `${e.file}: ${e.error}`));
    out.replaceChildren(...errs, table(['State', 'Check', 'Group', 'Kind', 'Last run', 'Duration', 'Why'],
      r.checks.map((c: any) => [state(c.status), h('a', { href: `/checks?id=${encodeURIComponent(c.id)}` }, c.name), c.group ?? '', c.kind,
        c.last ? new Date(c.last.at).toLocaleTimeString() : '–', c.last ? ms(c.last.duration_ms) : '–',
        c.last?.error || (c.last?.failed ?? []).map((f: any) => `${f.condition} (got ${f.actual})`).join('; ')]), 'checks'));
  } catch (err) { showError(out, err); }
}

async function checkPage(root: HTMLElement, id: string): Promise<void> {
  const out = h('div', {});
  root.replaceChildren(shell('/checks', id, '', out));
  try {
    const enc = encodeURIComponent(id);
    const [c, tr, res, days] = await Promise.all([getJSON<any>(`/api/v1/checks/${enc}`), getJSON<any>(`/api/v1/checks/${enc}/transitions?limit=20`),
      getJSON<any>(`/api/v1/checks/${enc}/results?failed=true&limit=20`), getJSON<any>(`/api/v1/checks/${enc}/series?level=day`)]);
    document.title = `${c.name} · dnsscience`;
    root.querySelector('h1')!.textContent = c.name;
    out.replaceChildren(
      h('p', {}, state(c.status), ` ${c.kind} ${c.target} · every ${c.interval_seconds} s · since ${new Date(c.since).toLocaleString()}`),
      h('h2', {}, 'Uptime'), uptimeBars(days.buckets),
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
      table(['State', 'Check', '90 days', 'Uptime'], g.checks.map((c: any) => [state(c.status), c.name, uptimeBars(c.days),
        c.uptime_90d === null ? '–' : `${(100 * c.uptime_90d).toFixed(2)}%`])))));
  } catch (err) { showError(out, err); }
}
