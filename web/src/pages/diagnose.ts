// Diagnose: DNS → TCP → TLS → HTTP (→ WebSocket) for a URL, shown layer by
// layer as the results stream in, against a time budget, with one readable
// cause; raw errors are folded behind "details".
import { run } from '../api';
import { badge, field, h, input, ms, scroller } from '../dom';
import { toolPage, val, verdictBox } from './tool';

const budgetSeconds = 90;

// webAdvice rewords the engine's next step (written for the CLI) for a web
// page: a suggested dnsscience command becomes a link to the page that
// does it, and command-line flags are left out.
export function webAdvice(s: string | undefined, host: string): (Node | string)[] {
  if (!s) return [];
  const out: (Node | string)[] = [];
  const text = s.replace(/pass --resolvers or fix \/etc\/resolv\.conf/i, 'this server has no DNS resolver configured; tell its operator');
  for (const raw of text.split(/;\s*/)) {
    const cmd = /dnsscience (dig|propagation|trace|cert|ws|http|tcp)\b([^;]*)/.exec(raw);
    if (cmd) {
      const link = commandLink(cmd[1], cmd[2], host);
      if (link) out.push(out.length ? ' ' : '', link);
      continue;
    }
    const clause = raw.replace(/\s*\([^()]*--[a-z][^()]*\)/g, '').replace(/,?\s*(or|and)?\s*(pass|try|give|check)[^,;]*--[a-z][^,;]*/gi, '').trim();
    if (!clause || clause.includes('--')) continue;
    out.push(out.length ? ' ' : '', clause.charAt(0).toUpperCase() + clause.slice(1).replace(/[.,]?$/, '.'));
  }
  return out;
}

// commandLink is the page that does what a suggested command does.
function commandLink(cmd: string, args: string, host: string): HTMLElement | null {
  const words = args.trim().split(/\s+/);
  const at = words.find((w) => w.startsWith('@'))?.slice(1);
  const flag = (f: string) => { const i = words.indexOf(f); return i >= 0 ? words[i + 1] : undefined; };
  const plain = words.filter((w, i) => w && !w.startsWith('-') && !w.startsWith('@') && !w.startsWith('+') && !words[i - 1]?.startsWith('--'));
  const target = plain[0] && !/^(to|for|shows|and|with)$/.test(plain[0]) ? plain[0] : host;
  const q = (o: Record<string, string | undefined>) => new URLSearchParams(Object.entries(o).filter((e): e is [string, string] => !!e[1])).toString();
  switch (cmd) {
    case 'dig':
      return args.includes('--trace') ? null : h('a', { href: `/dns?${q({ target, server: at })}` }, at ? `Ask ${at} directly.` : `Look ${target} up.`);
    case 'propagation': return h('a', { href: `/propagation?${q({ target })}` }, 'Compare every resolver’s answer.');
    case 'trace': return h('a', { href: `/visualtrace?${q({ target: plain[plain.length - 1] ?? host, protocol: flag('--proto'), port: flag('--port') })}` }, 'Trace the route to see where packets stop.');
    case 'cert': return h('a', { href: `/cert?${q({ target: host.includes(':') ? host : `${host}:443` })}` }, 'Inspect the certificate chain.');
    case 'ws': return h('a', { href: '/ws' }, 'Try a WebSocket exchange.');
    default: return h('a', { href: `/${cmd}` }, `Open the ${cmd.toUpperCase()} check.`);
  }
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
