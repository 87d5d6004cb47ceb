// The domain health scan: findings by severity, the DNSSEC chain of trust
// drawn as DS → DNSKEY → RRSIG per zone with the broken link marked, and
// every name server checked.
import { run } from '../api';
import { badge, checkbox, field, h, input, table } from '../dom';
import { checked, list, toolPage, val, verdictBox } from './tool';

const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

type State = 'ok' | 'fail' | 'off';
const colour: Record<State, [string, string]> = { ok: ['#e6f4ea', '#1e7e34'], fail: ['#fdecea', '#b3261e'], off: ['#eef0f3', '#6b7683'] };

// linkStates says which of a link's three boxes (DS, DNSKEY, RRSIG over
// the DNSKEY set) held, failed or were never reached.
export function linkStates(l: any): [State, State, State] {
  if (l.status === 'secure') return ['ok', 'ok', 'ok'];
  if (l.status === 'insecure') return ['off', 'off', 'off'];
  const code: string = l.code ?? '';
  if ((l.ds_signatures ?? []).some((s: any) => !s.valid) || /denial/.test(code)) return ['fail', 'off', 'off'];
  if (code === 'dnssec_ds_no_matching_key' || code === 'dnssec_dnskey_missing') return ['ok', 'fail', 'off'];
  if (l.status === 'bogus') return ['ok', 'ok', 'fail'];
  return ['off', 'off', 'off'];
}

function dsLabel(l: any): string {
  if (l.no_ds) return `no DS (${l.no_ds})`;
  const ds: any[] = l.ds ?? [];
  return ds.length ? `DS ${[...new Set(ds.map((d) => d.key_tag))].join(', ')}` : 'DS –';
}

function keyLabel(l: any): string {
  const ks: any[] = l.dnskey ?? [];
  return ks.length ? `DNSKEY ${ks.map((k) => `${k.key_tag}${k.sep ? '*' : ''}`).join(', ')}` : 'DNSKEY –';
}

function sigLabel(l: any): string {
  const sigs: any[] = l.dnskey_signatures ?? [];
  const good = sigs.find((s) => s.valid);
  if (good) return `RRSIG ${good.key_tag} ✓`;
  return sigs.length ? `RRSIG ${sigs[0].key_tag} ✕` : 'RRSIG –';
}

// chainSVG draws the chain root → TLD → domain, one row per zone: DS →
// DNSKEY → RRSIG, the RRSIG leading to the child's DS; the broken box and
// the arrow into it are red and say why.
export function chainSVG(d: any): SVGSVGElement {
  const links: any[] = d.chain ?? [];
  const recs: any[] = d.records ?? [];
  const rowH = 78, bw = 150, bh = 40, x0 = 150, gap = 40;
  const rows = links.length + (recs.length ? 1 : 0);
  const width = x0 + 3 * bw + 2 * gap + 20;
  const height = Math.max(rows, 1) * rowH + 20;
  const s = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chain', 'aria-label': `DNSSEC chain: ${d.status}` });
  const defs = svg('defs', {});
  for (const st of ['ok', 'fail', 'off'] as State[]) {
    const m = svg('marker', { id: `arrow-${st}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    m.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour[st][1] }));
    defs.append(m);
  }
  s.append(defs);
  const box = (x: number, y: number, label: string, st: State, title: string) => {
    const g = svg('g', { class: `box ${st}`, 'data-state': st });
    g.append(svg('title', {}, title));
    g.append(svg('rect', { x, y, width: bw, height: bh, rx: 6, fill: colour[st][0], stroke: colour[st][1], 'stroke-width': st === 'fail' ? 2.5 : 1.2 }));
    g.append(svg('text', { x: x + bw / 2, y: y + bh / 2 + 5, 'text-anchor': 'middle', 'font-size': 12, fill: colour[st][1] }, label.length > 22 ? label.slice(0, 21) + '…' : label));
    s.append(g);
  };
  const arrow = (x1: number, y1: number, x2: number, y2: number, st: State) => {
    s.append(svg('line', { x1, y1, x2, y2, stroke: colour[st][1], 'stroke-width': st === 'fail' ? 2.5 : 1.5, 'stroke-dasharray': st === 'ok' ? '' : '5 4', 'marker-end': `url(#arrow-${st})` }));
  };
  links.forEach((l, i) => {
    const y = 10 + i * rowH;
    const [a, b, c] = linkStates(l);
    s.append(svg('text', { x: 8, y: y + bh / 2 + 5, 'font-size': 13, 'font-weight': 600, fill: '#1f2933', class: 'zone' }, l.zone));
    const why = l.reason ? `${l.status}: ${l.reason}` : l.status;
    box(x0, y, i === 0 && !l.no_ds ? `anchor ${dsLabel(l)}` : dsLabel(l), a, why);
    box(x0 + bw + gap, y, keyLabel(l), b, why);
    box(x0 + 2 * (bw + gap), y, sigLabel(l), c, why);
    arrow(x0 + bw, y + bh / 2, x0 + bw + gap - 2, y + bh / 2, b);
    arrow(x0 + 2 * bw + gap, y + bh / 2, x0 + 2 * (bw + gap) - 2, y + bh / 2, c);
    if (i + 1 < links.length) arrow(x0 + 2 * (bw + gap) + bw / 2, y + bh, x0 + bw / 2, y + rowH - 2, linkStates(links[i + 1])[0]);
    if (l.status === 'bogus' || l.status === 'insecure') {
      s.append(svg('text', { x: x0, y: y + bh + 16, 'font-size': 11, fill: colour[l.status === 'bogus' ? 'fail' : 'off'][1], class: 'why' }, l.code || l.status));
    }
  });
  if (recs.length && links.length && links[links.length - 1].status === 'secure') {
    const y = 10 + links.length * rowH;
    s.append(svg('text', { x: 8, y: y + bh / 2 + 5, 'font-size': 13, fill: '#1f2933' }, 'records'));
    recs.forEach((r, j) => {
      const st: State = r.status === 'secure' ? 'ok' : r.status === 'bogus' ? 'fail' : 'off';
      const label = `${r.type} ${r.denial ? `(${r.denial})` : r.rcode}`;
      box(x0 + j * (bw + gap), y, `${r.name.split('.')[0] || '.'} ${label}`, st, r.reason || `${r.name} ${r.type}: ${r.status}`);
      if (j === 0) arrow(x0 + 2 * (bw + gap) + bw / 2, y - rowH + bh, x0 + bw / 2, y - 2, st);
    });
  }
  return s;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

const sevKind: Record<string, string> = { error: 'fail', warning: 'warn', notice: 'muted' };

export function health(root: HTMLElement): void {
  toolPage(root, {
    path: '/domainhealth', kind: 'scan', title: 'Domain health', submit: 'Scan',
    intro: 'Every name server of a domain and its parent, the DNSSEC chain of trust, and the mail and web records, with each finding explained.',
    fields: [field('Domain', input('target', { required: true, placeholder: 'example.com' })),
      field('Roots', input('roots', { placeholder: 'public root servers' }), 'Root servers (IP[:port]) to start from, for a test hierarchy'),
      field('Trust anchor', h('textarea', { name: 'trust_anchor', rows: 2, spellcheck: 'false', placeholder: 'the root KSK' }), 'DS or DNSKEY records in zone-file syntax, for a test root'),
      checkbox('no_ipv6', 'IPv4 only')],
    run: (f) => run('scan', val(f, 'target'), {
      roots: list(f, 'roots').length ? list(f, 'roots') : undefined, trust_anchor: val(f, 'trust_anchor') || undefined, no_ipv6: checked(f, 'no_ipv6') || undefined,
    }),
    render: (r, out) => {
      const c = r.counts ?? {};
      const name = (r.domain ?? '').replace(/\.$/, '');
      const kind = r.verdict === 'error' ? 'fail' : r.verdict === 'warning' ? 'warn' : 'ok';
      const first = (r.findings ?? []).find((f: any) => f.severity === r.verdict);
      const v = verdictBox(kind, r.verdict === 'ok' ? `${name} is healthy` : `${name}: ${plural(c.error ?? 0, 'error')}, ${plural(c.warning ?? 0, 'warning')}`,
        first ? first.evidence : `${c.notice ?? 0} notices.`);
      v.dataset.verdict = r.verdict;
      const d = r.dnssec;
      const dnssec = d ? [h('h2', {}, 'DNSSEC chain of trust'),
        h('p', { class: 'dnssec-status', 'data-status': d.status }, badge(d.status, d.status === 'secure' ? 'ok' : d.status === 'bogus' ? 'fail' : 'warn'), ' ',
          d.reason || (d.status === 'secure' ? `Every link from the ${d.anchor === '.' ? 'root' : d.anchor} trust anchor holds.` : '')),
        h('div', { class: 'chain-wrap' }, chainSVG(d))] : [];
      const findings = table(['Severity', 'Code', 'Evidence', 'Servers'], (r.findings ?? []).map((f: any) => [
        badge(f.severity, sevKind[f.severity] ?? 'muted'), h('span', { class: 'mono' }, f.code), f.evidence, h('span', { class: 'mono wrap' }, (f.servers ?? []).join(', '))]), 'findings-table');
      const servers = table(['Zone', 'Server', 'Address', 'UDP', 'TCP', 'EDNS', 'AA', 'Serial', 'RTT', 'Open'], (r.servers ?? []).map((s: any) => [
        s.zone, h('span', { class: 'mono' }, s.name), h('span', { class: 'mono' }, s.address), s.udp ? '✓' : '✕', s.tcp ? '✓' : '✕', s.edns ? '✓' : '–',
        s.authoritative ? '✓' : '✕', s.serial ?? '', s.rtt_ms ? `${s.rtt_ms} ms` : '', [s.recursion ? 'recursion' : '', s.axfr ? 'AXFR' : ''].filter(Boolean).join(', ')]), 'servers-table');
      out.append(v, h('div', { class: 'summary' }, `Delegation: ${(r.path ?? []).join(' → ')}`, ` · ${Math.round(r.took_ms ?? 0)} ms`),
        ...dnssec, h('h2', {}, 'Findings'), findings, h('h2', {}, 'Name servers'), servers);
    },
  });
}
