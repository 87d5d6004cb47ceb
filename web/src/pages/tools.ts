// The tools: hub, DNS, propagation, certificate, HTTP, WebSocket, diagnose,
// scan and compare.
import * as L from 'leaflet';
import { getJSON, run } from '../api';
import { badge, checkbox, field, h, input, ms, select, table } from '../dom';
import { palette, worldMap } from '../map';
import { shell, tools } from '../shell';
import { checked, toolPage, val } from './tool';

const types = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SOA', 'CAA', 'HTTPS', 'SVCB', 'SRV', 'PTR', 'DS', 'DNSKEY', 'NAPTR', 'TLSA', 'ANY'];

export function hub(root: HTMLElement): void {
  root.replaceChildren(shell('/tools', 'Network and DNS tools', 'Look, diagnose and watch: every tool runs on this server through the same engines as the dnsscience CLI and API.',
    h('ul', { class: 'cards' }, ...tools.map((t) => h('li', {}, h('a', { class: 'card', href: t.path },
      h('span', { class: 'card-icon', 'aria-hidden': 'true' }, t.icon), h('strong', {}, t.name), h('span', {}, t.blurb)))))));
}

async function resolverNames(): Promise<string[]> {
  try {
    const r = await getJSON<any>('/api/v1/resolvers');
    const list = Array.isArray(r) ? r : r.resolvers ?? [];
    return list.map((x: any) => x.name ?? x.id).filter(Boolean);
  } catch { return []; }
}

function records(rs: any[] = []): HTMLElement {
  if (!rs.length) return h('p', { class: 'muted' }, 'None.');
  return table(['Name', 'TTL', 'Type', 'Data'], rs.map((r) => [h('span', { class: 'mono' }, r.name), r.ttl, r.type, h('span', { class: 'mono wrap' }, r.data)]), 'records');
}

export function dns(root: HTMLElement): void {
  const server = select('server', [['', 'Server default (upstream)']]);
  resolverNames().then((ns) => ns.forEach((n) => server.append(h('option', { value: n }, n))));
  toolPage(root, {
    path: '/dns', title: 'DNS lookup', intro: 'Ask a resolver for a record and read the whole answer.', submit: 'Look up',
    fields: [field('Name', input('target', { required: true, placeholder: 'example.com' })), field('Type', select('type', types, 'A')),
      field('Resolver', server, 'Named resolvers speak UDP, TCP, DoT or DoH as listed by /api/v1/resolvers'), checkbox('dnssec', 'DNSSEC (DO bit)')],
    run: (f) => run('dns', val(f, 'target'), { type: val(f, 'type'), server: val(f, 'server') || undefined, dnssec: checked(f, 'dnssec') || undefined }),
    fill: (f, m: any) => { (f.elements.namedItem('type') as HTMLSelectElement).value = m.options?.type ?? 'A'; },
    render: (r, out) => {
      const rc = r.header?.rcode ?? '';
      out.append(h('div', { class: 'summary' },
        h('span', { class: `badge ${rc === 'NOERROR' ? 'ok' : 'fail'}`, 'data-rcode': rc }, rc || 'no reply'),
        h('span', {}, `${r.server} over ${r.transport}`), h('span', {}, ms(r.rtt_ms)), h('span', {}, `flags: ${(r.header?.flags ?? []).join(' ')}`),
        h('span', {}, `${r.reply_size} bytes`)),
      r.error ? h('div', { class: 'alert error' }, r.error) : '',
      h('h2', {}, 'Answer'), records(r.answer), h('h2', {}, 'Authority'), records(r.authority), h('h2', {}, 'Additional'), records(r.additional));
    },
  });
}

export function propagation(root: HTMLElement): void {
  const mapEl = h('div', { class: 'map map-small', role: 'region', 'aria-label': 'Map of resolvers' });
  let map: L.Map | undefined;
  let layer: L.LayerGroup | undefined;
  const colour = (g: number) => (g < 0 ? '#868e96' : palette[g % palette.length]);
  const draw = (answers: any[]) => {
    if (!map) return;
    layer?.remove();
    layer = L.layerGroup().addTo(map);
    for (const a of answers) {
      if (!a.location || (!a.location.lat && !a.location.lon)) continue;
      L.circleMarker([a.location.lat, a.location.lon], { radius: 8, color: '#fff', weight: 2, fillColor: colour(a.group), fillOpacity: 1, className: 'resolver-marker' })
        .bindTooltip(`${a.resolver}: ${a.error ? a.error : (a.answers ?? []).join(', ') || a.rcode}`).addTo(layer);
    }
    const pts = answers.filter((a) => a.location && (a.location.lat || a.location.lon)).map((a) => L.latLng(a.location.lat, a.location.lon));
    if (pts.length > 1) map.fitBounds(L.latLngBounds(pts).pad(0.2), { maxZoom: 4, animate: false });
  };
  toolPage(root, {
    path: '/propagation', title: 'DNS propagation', intro: 'Ask many resolvers at once; resolvers that agree share a colour.', submit: 'Check',
    fields: [field('Name', input('target', { required: true, placeholder: 'example.com' })), field('Type', select('type', types.filter((t) => t !== 'ANY'), 'A')),
      field('Expect', input('expect', { placeholder: '192.0.2.1 (optional)' }), 'Values every resolver should return, comma-separated')],
    aside: h('div', { class: 'aside-map' }, mapEl),
    run: (f, out) => {
      const seen: any[] = [];
      const tbody = h('tbody');
      out.replaceChildren(h('table', { class: 'answers' }, h('thead', {}, h('tr', {}, h('th', {}, 'Resolver'), h('th', {}, 'Answer'), h('th', {}, 'RTT'))), tbody));
      const expect = val(f, 'expect').split(',').map((s) => s.trim()).filter(Boolean);
      return run('propagation', val(f, 'target'), { type: val(f, 'type'), expect: expect.length ? expect : undefined }, (ev) => {
        if (ev.type !== 'answer') return;
        seen.push(ev.data);
        tbody.append(h('tr', {}, h('td', {}, ev.data.resolver), h('td', { class: 'mono' }, ev.data.error ?? (ev.data.answers ?? []).join(', ')), h('td', { class: 'num' }, ms(ev.data.rtt_ms))));
        draw(seen);
      });
    },
    render: (r, out) => {
      draw(r.results ?? []);
      const ok = r.consistent;
      out.append(h('div', { class: `verdict ${ok ? 'ok' : 'fail'}`, 'data-verdict': r.verdict }, h('strong', {}, ok ? 'Consistent' : r.verdict), ` — ${r.groups?.length ?? 0} answer group(s), ${r.failing?.length ?? 0} failing`),
        h('table', { class: 'answers' },
          h('thead', {}, h('tr', {}, ...['Resolver', 'Operator', 'Place', 'Answer', 'TTL', 'RTT'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...(r.results ?? []).map((a: any) => h('tr', { 'data-group': a.group },
            h('td', {}, h('span', { class: 'dot', style: `background:${colour(a.group)}`, 'aria-hidden': 'true' }), ' ', a.resolver),
            h('td', {}, a.operator ?? ''), h('td', {}, [a.location?.city, a.location?.country].filter(Boolean).join(', ')),
            h('td', { class: 'mono wrap' }, a.error ? badge(a.error, 'fail') : (a.answers ?? []).join(', ') || a.rcode),
            h('td', { class: 'num' }, a.ttl ?? ''), h('td', { class: 'num' }, ms(a.rtt_ms)))))));
    },
  });
  worldMap(mapEl).then((m) => { map = m; });
}

function waterfall(t: any): HTMLElement {
  const phases: [string, number, number][] = [];
  let at = 0;
  for (const [k, name] of [['dns_ms', 'DNS'], ['connect_ms', 'Connect'], ['tls_ms', 'TLS']] as const) {
    if (t[k] > 0) { phases.push([name, at, t[k]]); at += t[k]; }
  }
  if (t.first_byte_ms > at) phases.push(['Waiting (first byte)', at, t.first_byte_ms - at]);
  if (t.total_ms > Math.max(at, t.first_byte_ms || 0)) phases.push(['Transfer', Math.max(at, t.first_byte_ms || 0), t.total_ms - Math.max(at, t.first_byte_ms || 0)]);
  const total = t.total_ms || 1;
  return h('div', { class: 'waterfall', role: 'table', 'aria-label': 'Phase timings' },
    ...phases.map(([name, start, dur]) => h('div', { class: 'wf-row', role: 'row' },
      h('span', { class: 'wf-name', role: 'cell' }, name),
      h('span', { class: 'wf-track', role: 'cell' }, h('span', { class: 'wf-bar', style: `left:${(100 * start) / total}%;width:${Math.max(0.5, (100 * dur) / total)}%` })),
      h('span', { class: 'wf-ms num', role: 'cell' }, ms(dur)))),
    h('div', { class: 'wf-row total' }, h('span', { class: 'wf-name' }, 'Total'), h('span', {}), h('span', { class: 'wf-ms num' }, ms(t.total_ms))));
}

function probeSummary(r: any): HTMLElement {
  return h('div', { class: 'summary' }, h('span', { class: `badge ${r.ok ? 'ok' : 'fail'}` }, r.ok ? 'OK' : `failed${r.failed_phase ? ` at ${r.failed_phase}` : ''}`),
    r.address ? h('span', { class: 'mono' }, r.address) : '', r.error ? h('span', { class: 'err' }, r.error) : '');
}

export function cert(root: HTMLElement): void {
  toolPage(root, {
    path: '/cert', title: 'Certificate check', intro: 'The chain a TLS server sends: trust, hostname, expiry and findings.', submit: 'Check',
    fields: [field('Host and port', input('target', { required: true, placeholder: 'example.com:443' })), field('SNI', input('sni', { placeholder: 'default: the host' })),
      field('Warn days', input('warn_days', { type: 'number', min: 0, value: 21 }))],
    run: (f) => run('cert', val(f, 'target'), { sni: val(f, 'sni') || undefined, warn_days: Number(val(f, 'warn_days')) || undefined }),
    render: (r, out) => {
      const t = r.tls ?? {};
      out.append(probeSummary(r), h('div', { class: 'facts' },
        fact('Trusted', t.trusted ? badge('yes', 'ok') : [badge('no', 'fail'), t.trust_error ? h('small', { class: 'hint' }, t.trust_error) : '']),
        fact('Hostname matches', t.hostname_ok ? badge('yes', 'ok') : badge('no', 'fail')),
        fact('Days left', h('span', { class: `badge ${t.days_left < 0 ? 'fail' : t.days_left < 21 ? 'warn' : 'ok'}` }, String(t.days_left ?? '–'))),
        fact('Expires', t.leaf_expiry ? new Date(t.leaf_expiry).toUTCString() : '–'),
        fact('Version', t.version ?? '–'), fact('Cipher', t.cipher_suite ?? '–')),
      t.findings?.length ? h('div', {}, h('h2', {}, 'Findings'), h('ul', { class: 'findings' }, ...t.findings.map((x: any) => h('li', {}, h('strong', {}, x.name), ': ', x.detail)))) : '',
      h('h2', {}, 'Chain'),
      table(['#', 'Subject', 'Issuer', 'Key', 'Not after'], (t.chain ?? []).map((c: any, i: number) => [i, c.subject, c.issuer, `${c.key_type} ${c.key_bits}`, new Date(c.not_after).toISOString().slice(0, 10)])));
    },
  });
}

const fact = (k: string, v: any) => h('div', { class: 'fact' }, h('span', { class: 'k' }, k), h('span', { class: 'v' }, v));

export function http(root: HTMLElement): void {
  toolPage(root, {
    path: '/http', title: 'HTTP check', intro: 'Fetch a URL and see where the time goes.', submit: 'Fetch',
    fields: [field('URL', input('target', { required: true, placeholder: 'https://example.com/' })), field('Method', select('method', ['GET', 'HEAD', 'POST', 'OPTIONS'], 'GET')),
      checkbox('follow_redirects', 'Follow redirects', true)],
    run: (f) => run('http', val(f, 'target'), { method: val(f, 'method'), follow_redirects: checked(f, 'follow_redirects') }),
    render: (r, out) => {
      const x = r.http ?? {};
      out.append(probeSummary(r), h('div', { class: 'facts' }, fact('Status', x.status ? `${x.status} ${x.status_text ?? ''}` : '–'), fact('Protocol', x.proto ?? '–'),
        fact('Body', `${x.body_size ?? 0} bytes`), fact('TLS', x.tls_version ?? '–'), x.final_url ? fact('Final URL', x.final_url) : ''),
      h('h2', {}, 'Timing'), waterfall(r.timings ?? {}),
      x.headers ? h('details', {}, h('summary', {}, 'Response headers'), table(['Header', 'Value'], Object.entries(x.headers).map(([k, v]) => [k, (v as string[]).join(', ')]))) : '');
    },
  });
}

export function ws(root: HTMLElement): void {
  toolPage(root, {
    path: '/ws', title: 'WebSocket test', intro: 'Open a WebSocket, optionally send a message and match the reply.', submit: 'Connect',
    fields: [field('URL', input('target', { required: true, placeholder: 'wss://example.com/socket' })), field('Send', input('send', { placeholder: 'optional message' })),
      field('Expect', input('expect', { placeholder: 'text the reply must contain' }))],
    run: (f) => run('ws', val(f, 'target'), { send: val(f, 'send') || undefined, expect: val(f, 'expect') || undefined }),
    render: (r, out) => {
      const w = r.ws ?? {};
      out.append(probeSummary(r), h('div', { class: 'facts' }, fact('Upgrade status', w.status ?? '–'), fact('Subprotocol', w.subprotocol || '–'),
        fact('Received', w.received ?? '–'), fact('Matched', w.matched ? badge('yes', 'ok') : '–'), fact('Closed', w.close_code ? `${w.close_code} by ${w.closed_by}` : '–')),
      h('h2', {}, 'Timing'), waterfall(r.timings ?? {}));
    },
  });
}

export function diagnose(root: HTMLElement): void {
  toolPage(root, {
    path: '/diagnose', title: 'Diagnose', intro: 'DNS → TCP → TLS → HTTP: the first layer that fails, and why.', submit: 'Diagnose',
    fields: [field('URL', input('target', { required: true, placeholder: 'https://example.com/' }))],
    run: (f, out) => {
      const rows = h('tbody');
      out.replaceChildren(h('table', { class: 'layers' }, rows));
      return run('diagnose', val(f, 'target'), {}, (ev) => { if (ev.type === 'layer') rows.append(layerRow(ev.data)); });
    },
    render: (r, out) => {
      const v = r.verdict;
      out.append(h('div', { class: `verdict ${r.ok ? 'ok' : 'fail'}`, 'data-ok': String(r.ok) },
        r.ok ? h('strong', {}, 'Everything works.') : h('div', {}, h('strong', {}, `${v?.layer?.toUpperCase() ?? 'A layer'} fails: `), v?.problem ?? '',
          v?.likely_cause ? h('p', {}, h('em', {}, 'Likely cause: '), v.likely_cause) : '', v?.next_step ? h('p', {}, h('em', {}, 'Next step: '), v.next_step) : '')),
      h('table', { class: 'layers' }, h('thead', {}, h('tr', {}, ...['Layer', 'Status', 'Address', 'Evidence', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...(r.layers ?? []).map(layerRow))));
    },
  });
}

const layerRow = (l: any) => h('tr', { 'data-layer': l.layer }, h('td', {}, h('strong', {}, l.layer.toUpperCase())),
  h('td', {}, badge(l.status, l.status === 'ok' ? 'ok' : l.status === 'warn' ? 'warn' : l.status === 'skip' ? 'muted' : 'fail')),
  h('td', { class: 'mono' }, l.address ?? ''), h('td', { class: 'wrap' }, l.evidence), h('td', { class: 'num' }, ms(l.duration_ms)));

export function scan(root: HTMLElement): void {
  toolPage(root, {
    path: '/scan', title: 'Domain scan', intro: 'The common records of a domain on one page.', submit: 'Scan',
    fields: [field('Domain', input('target', { required: true, placeholder: 'example.com' }))],
    run: (f) => getJSON(`/api/scan/${encodeURIComponent(val(f, 'target'))}`),
    render: (r, out) => {
      const rows = Object.entries(r.records ?? {}).map(([t, v]) => [h('strong', {}, t), h('span', { class: 'mono wrap' }, ...(v as string[]).flatMap((x) => [x, h('br')]))]);
      rows.push([h('strong', {}, 'DMARC'), h('span', { class: 'mono wrap' }, (r.dmarc ?? []).join(' ') || '–')]);
      out.append(h('div', { class: 'summary' }, badge(r.success ? 'scanned' : 'incomplete', r.success ? 'ok' : 'warn'), r.domain, r.cached ? badge('cached', 'muted') : ''),
        table(['Type', 'Records'], rows, 'records'),
        r.errors && Object.keys(r.errors).length ? h('ul', { class: 'findings' }, ...Object.entries(r.errors).map(([k, v]) => h('li', {}, `${k}: ${v}`))) : '');
    },
  });
}

export function compare(root: HTMLElement): void {
  toolPage(root, {
    path: '/compare', title: 'Compare domains', intro: 'Two domains side by side; rows that differ are marked.', submit: 'Compare',
    fields: [field('First domain', input('domain1', { required: true, placeholder: 'example.com' })), field('Second domain', input('domain2', { required: true, placeholder: 'example.org' }))],
    run: (f) => getJSON(`/api/compare?domain1=${encodeURIComponent(val(f, 'domain1'))}&domain2=${encodeURIComponent(val(f, 'domain2'))}`),
    render: (r, out) => {
      const [a, b] = r.domains;
      const diff = new Set(r.differences ?? []);
      out.append(h('div', { class: 'summary' }, diff.size ? badge(`${diff.size} type(s) differ`, 'warn') : badge('identical', 'ok')),
        h('table', { class: 'records' }, h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, a), h('th', {}, b))),
          h('tbody', {}, ...Object.entries(r.records ?? {}).map(([t, v]: [string, any]) => h('tr', { class: diff.has(t) ? 'differs' : '' },
            h('td', {}, h('strong', {}, t), diff.has(t) ? badge('differs', 'warn') : ''),
            h('td', { class: 'mono wrap' }, (v[a] ?? []).join('\n') || '–'), h('td', { class: 'mono wrap' }, (v[b] ?? []).join('\n') || '–'))))));
    },
  });
}
