// Diagnose: DNS → TCP → TLS → HTTP (→ WebSocket) for a URL, shown layer by
// layer as the results stream in, against a time budget, with one readable
// cause; raw errors are folded behind "details".
import { run } from '../api';
import { badge, field, h, input, ms, scroller } from '../dom';
import { toolPage, val, verdictBox } from './tool';

const budgetSeconds = 90;

// webAdvice rewords the engine's advice (written for the CLI) for a web
// page: no command-line flags.
export function webAdvice(s: string | undefined, host: string): (Node | string)[] {
  if (!s) return [];
  const t = s
    .replace(/pass --resolvers or fix \/etc\/resolv\.conf/i, 'this server has no DNS resolver configured; tell its operator')
    .replace(/;?\s*try another with --resolvers/i, '')
    .replace(/,?\s*or check --expect-ip/i, '')
    .replace(/,? or pass (its|the issuing|the) CA( with --ca)?/i, '; a private CA is trusted only by clients configured with it')
    .replace(/pass the CA with --ca, or use/i, 'use')
    .replace(/;?\s*dnsscience traceroute to see where packets stop/i, '');
  const out: (Node | string)[] = [t.charAt(0).toUpperCase() + t.slice(1).replace(/\s*;\s*$/, '') + '.'];
  if (/traceroute/.test(s)) out.push(' ', h('a', { href: `/visualtrace?target=${encodeURIComponent(host)}` }, 'Trace the route to see where packets stop.'));
  return out;
}

// shortProblem is the engine's problem line without its layer prefix and
// the quoted body (which stays in the details).
const shortProblem = (p?: string) => (p ?? '').replace(/^(dns|tcp|tls|http|ws|websocket):\s*/i, '').replace(/\s*\(body: .*\)$/s, '');

const layerNames: Record<string, string> = { dns: 'DNS', tcp: 'TCP', tls: 'TLS', http: 'HTTP', ws: 'WebSocket' };

function plannedLayers(url: string): string[] {
  const scheme = url.split(':')[0].toLowerCase();
  return ['dns', 'tcp', ...(scheme === 'https' || scheme === 'wss' ? ['tls'] : []), scheme.startsWith('ws') ? 'ws' : 'http'];
}

// stepper shows every layer with its state; it is updated as layers arrive.
function stepper(layers: string[]) {
  const steps = new Map<string, HTMLElement>();
  const el = h('ol', { class: 'steps', 'aria-label': 'Layers' }, ...layers.map((l, i) => {
    const s = h('li', { class: `step st-${i ? 'pending' : 'running'}`, 'data-layer': l }, h('span', { class: 'step-dot', 'aria-hidden': 'true' }),
      h('strong', {}, layerNames[l] ?? l), h('small', { class: 'step-state' }, i ? 'waiting' : 'checking…'));
    steps.set(l, s);
    return s;
  }));
  const update = (l: any) => {
    let s = steps.get(l.layer);
    if (!s) { s = h('li', { class: 'step', 'data-layer': l.layer }, h('span', { class: 'step-dot', 'aria-hidden': 'true' }), h('strong', {}, layerNames[l.layer] ?? l.layer), h('small', { class: 'step-state' })); el.append(s); steps.set(l.layer, s); }
    s.className = `step st-${l.status}`;
    s.dataset.status = l.status;
    s.querySelector('.step-state')!.textContent = `${l.status === 'ok' ? 'ok' : l.status === 'skip' ? 'skipped' : l.status} · ${ms(l.duration_ms)}`;
    const next = [...steps.values()].find((x) => x.classList.contains('st-pending'));
    if (next && l.status !== 'fail') { next.className = 'step st-running'; next.querySelector('.step-state')!.textContent = 'checking…'; }
  };
  return { el, update };
}

const layerRow = (l: any) => h('tr', { 'data-layer': l.layer },
  h('td', {}, h('strong', {}, layerNames[l.layer] ?? l.layer)),
  h('td', {}, badge(l.status, l.status === 'ok' ? 'ok' : l.status === 'warn' ? 'warn' : l.status === 'skip' ? 'muted' : 'fail')),
  h('td', { class: 'mono' }, l.address ?? ''),
  h('td', { class: 'evidence' }, l.status === 'ok' || (l.evidence ?? '').length < 90 ? (l.evidence ?? '') : h('details', {}, h('summary', {}, String(l.evidence).split(/[:;]/)[0]), h('pre', { class: 'mono wrap' }, l.evidence))),
  h('td', { class: 'num' }, ms(l.duration_ms)));

export function diagnose(root: HTMLElement): void {
  toolPage(root, {
    path: '/diagnose', kind: 'diagnose', title: 'Diagnose', intro: 'DNS → TCP → TLS → HTTP: the first layer that fails, and why.', submit: 'Diagnose',
    fields: [field('URL', input('target', { required: true, placeholder: 'https://example.com/' }))],
    run: (f, out) => {
      const st = stepper(plannedLayers(val(f, 'target')));
      const clock = h('span', { class: 'elapsed num' }, '0.0 s');
      const t0 = Date.now();
      const timer = setInterval(() => { clock.textContent = `${((Date.now() - t0) / 1000).toFixed(1)} s`; if (!clock.isConnected) clearInterval(timer); }, 100);
      out.replaceChildren(h('div', { class: 'progress' }, h('p', { class: 'muted' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Checking layer by layer… ', clock,
        ` (gives up after ${budgetSeconds} s)`), st.el));
      return run('diagnose', val(f, 'target'), {}, (ev) => { if (ev.type === 'layer') st.update(ev.data); }).finally(() => clearInterval(timer));
    },
    render: (r, out) => {
      const v = r.verdict;
      const layers: any[] = r.layers ?? [];
      const failed = layers.find((l) => l.layer === v?.layer && l.status === 'fail') ?? layers.find((l) => l.status === 'fail');
      const st = stepper(layers.map((l) => l.layer));
      layers.forEach(st.update);
      const box = r.ok
        ? verdictBox('ok', `Everything works: ${layers.filter((l) => l.status === 'ok').map((l) => layerNames[l.layer] ?? l.layer).join(' → ')}`, `Checked in ${ms(r.duration_ms)}.`)
        : verdictBox('fail', `${layerNames[v?.layer] ?? 'A layer'} fails: ${shortProblem(v?.problem) || 'see the layers below'}`,
          [v?.likely_cause ? h('span', { class: 'cause' }, h('em', {}, 'Likely cause: '), v.likely_cause, '. ') : '',
            v?.next_step ? h('span', { class: 'next' }, h('em', {}, 'Next step: '), ...webAdvice(v.next_step, r.host ?? '')) : ''],
          failed?.evidence);
      box.dataset.ok = String(r.ok);
      out.append(box, st.el, scroller(h('table', { class: 'layers' }, h('thead', {}, h('tr', {}, ...['Layer', 'Status', 'Address', 'Evidence', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...layers.map(layerRow)))));
    },
  });
}
