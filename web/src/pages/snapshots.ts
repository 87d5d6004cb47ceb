// The snapshots page: take a snapshot of a domain's records, list this
// client's snapshots of it, and diff two of them (or one and now), the
// RRsets added (+), removed (-) and changed (~).
import { getJSON, postJSON } from '../api';
import { badge, field, h, input, scroller, select, showError } from '../dom';
import { shell } from '../shell';
import { verdictBox } from './tool';

interface Summary { id: string; domain: string; taken_at: string; method: string; serial: number; rrsets: number; records: number; source?: string }
interface RRset { name: string; type: string; ttl: number; data: string[] }
interface Change { op: string; name: string; type: string; old?: RRset; new?: RRset; added?: string[]; removed?: string[] }
interface Diff { domain: string; equal: boolean; added: number; removed: number; changed: number; partial?: boolean; changes: Change[] }

const opSign: Record<string, string> = { added: '+', removed: '-', changed: '~' };

// diffView draws a diff: one line per RRset, coloured by what happened to it.
function diffView(d: Diff): HTMLElement {
  const title = d.equal ? 'No differences' : `${d.added} added, ${d.removed} removed, ${d.changed} changed`;
  const rows = d.changes.map((c) => {
    const lines: HTMLElement[] = [];
    const recs = (sign: string, cls: string, rs?: RRset, data?: string[]) =>
      (data ?? rs?.data ?? []).forEach((x) => lines.push(h('div', { class: `diff-rec ${cls}` }, `${sign} ${c.name} ${rs?.ttl ?? ''} ${c.type} ${x}`)));
    if (c.op === 'added') recs('+', 'diff-added', c.new);
    else if (c.op === 'removed') recs('-', 'diff-removed', c.old);
    else { recs('-', 'diff-removed', c.old, c.removed); recs('+', 'diff-added', c.new, c.added); }
    return h('li', { class: `diff-set diff-${c.op}`, 'data-op': c.op },
      h('span', { class: 'diff-sign', 'aria-label': c.op }, opSign[c.op] ?? '?'), ' ', h('strong', { class: 'mono' }, `${c.name} ${c.type}`), ...lines);
  });
  return h('div', { class: 'snapshot-diff' },
    verdictBox(d.equal ? 'ok' : 'warn', title, d.partial ? 'One side asked common names only: only those names and types are compared.' : undefined),
    rows.length ? h('ul', { class: 'diff-list mono' }, ...rows) : '');
}

export function snapshots(root: HTMLElement): void {
  const errors = h('div', { class: 'errors', 'aria-live': 'polite' });
  const listBox = h('div', { class: 'snapshot-list', 'aria-live': 'polite' });
  const diffBox = h('div', { class: 'result', 'aria-live': 'polite' });
  const btn = h('button', { type: 'submit', class: 'primary' }, 'Take a snapshot');
  const showBtn = h('button', { type: 'button', class: 'secondary' }, 'Show snapshots');
  const form = h('form', { class: 'tool-form', novalidate: true },
    h('div', { class: 'row' },
      field('Domain', input('target', { required: true, placeholder: 'example.com' }), 'A zone apex'),
      field('Server', input('server', { placeholder: 'optional: host or address:port' }), 'Ask this server instead of the zone\'s own')),
    h('div', { class: 'actions' }, btn, showBtn));
  const value = (name: string) => ((form.elements.namedItem(name) as HTMLInputElement).value ?? '').trim();

  const showList = async (domain: string) => {
    const r = await getJSON<{ snapshots: Summary[] }>(`/api/v1/snapshots?domain=${encodeURIComponent(domain)}`);
    const list = r.snapshots ?? [];
    if (!list.length) {
      listBox.replaceChildren(h('p', { class: 'muted' }, `You have no snapshots of ${domain} yet.`));
      return;
    }
    const label = (s: Summary) => `${s.taken_at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')} (${s.method}, serial ${s.serial})`;
    const a = select('a', list.map((s) => [s.id, label(s)]), list[1]?.id ?? list[0].id);
    const b = select('b', [['now', 'now (take one now)'], ...list.map((s): [string, string] => [s.id, label(s)])], list.length > 1 ? list[0].id : 'now');
    const diffBtn = h('button', { type: 'button', class: 'primary' }, 'Compare');
    diffBtn.addEventListener('click', async () => {
      errors.replaceChildren();
      diffBtn.disabled = true;
      diffBox.replaceChildren(h('p', { class: 'muted working' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Comparing…'));
      try {
        const server = value('server');
        const d = await getJSON<Diff>(`/api/v1/snapshots/diff?a=${encodeURIComponent(a.value)}&b=${encodeURIComponent(b.value)}${server ? `&server=${encodeURIComponent(server)}` : ''}`);
        diffBox.replaceChildren(diffView(d));
      } catch (err) {
        diffBox.replaceChildren();
        showError(errors, err);
      } finally {
        diffBtn.disabled = false;
      }
    });
    listBox.replaceChildren(
      h('h2', {}, `Your snapshots of ${domain}`),
      scroller(h('table', { class: 'answers snapshots' },
        h('thead', {}, h('tr', {}, ...['Taken', 'Method', 'Serial', 'RRsets', 'Records', 'Source', 'ID'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...list.map((s) => h('tr', { 'data-id': s.id },
          h('td', {}, label(s).split(' (')[0]), h('td', {}, badge(s.method, 'ok')), h('td', { class: 'num' }, String(s.serial)),
          h('td', { class: 'num' }, String(s.rrsets)), h('td', { class: 'num' }, String(s.records)), h('td', {}, s.source ?? ''),
          h('td', { class: 'mono' }, h('a', { href: `/api/v1/snapshots/${encodeURIComponent(s.id)}` }, s.id)))))), 'Snapshots'),
      h('div', { class: 'row diff-form' }, field('From', a), field('To', b), h('div', { class: 'actions' }, diffBtn)));
  };

  const guard = async (work: () => Promise<void>) => {
    errors.replaceChildren();
    const domain = value('target');
    if (!domain) {
      errors.append(h('div', { class: 'alert error', role: 'alert' }, 'Domain is required.'));
      return;
    }
    btn.disabled = showBtn.disabled = true;
    try {
      await work();
      history.replaceState(null, '', `/snapshots?domain=${encodeURIComponent(domain)}`);
    } catch (err) {
      showError(errors, err, form);
    } finally {
      btn.disabled = showBtn.disabled = false;
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void guard(async () => {
      btn.textContent = 'Working…';
      try {
        const s = await postJSON<Summary>('/api/v1/snapshots', { target: value('target'), options: value('server') ? { server: value('server') } : {} });
        diffBox.replaceChildren(verdictBox('ok', `Snapshot of ${s.domain} taken`, `${s.method === 'axfr' ? 'By zone transfer' : 'By common names'}, serial ${s.serial}.`));
        await showList(s.domain);
      } finally {
        btn.textContent = 'Take a snapshot';
      }
    });
  });
  showBtn.addEventListener('click', () => void guard(() => showList(value('target'))));
  root.replaceChildren(shell('/snapshots', 'Record snapshots',
    'Save a domain\'s DNS records before a change, then see exactly what changed: records added, removed and changed, between two snapshots or a snapshot and now. Only you see your snapshots.',
    h('div', { class: 'tool-layout' }, h('div', { class: 'tool-main' }, form, errors, listBox, diffBox))));
  const domain = new URLSearchParams(location.search).get('domain');
  if (domain) {
    (form.elements.namedItem('target') as HTMLInputElement).value = domain;
    void guard(() => showList(domain));
  }
}
