// The DNS tools: lookup, propagation, domain scan and compare, each led by
// a verdict in words.
import { getJSON, run } from '../api';
import { badge, checkbox, field, h, input, ms, select, table, scroller } from '../dom';
import { checked, list, toolPage, val, verdictBox } from './tool';
import type * as Leaflet from 'leaflet';

export const types = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SOA', 'CAA', 'HTTPS', 'SVCB', 'SRV', 'PTR', 'DS', 'DNSKEY', 'NAPTR', 'TLSA', 'ANY'];

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

// rcodeMeaning says what an rcode means for the person who asked.
export function rcodeMeaning(rcode: string, name: string): [string, string] {
  switch (rcode) {
    case 'NXDOMAIN': return [`${name} does not exist (NXDOMAIN)`, 'The authoritative servers say there is no such name. Check the spelling, or that the record was created in the right zone.'];
    case 'SERVFAIL': return ['The resolver could not get an answer (SERVFAIL)', 'Often a DNSSEC validation failure or authoritative servers that do not answer.'];
    case 'REFUSED': return ['The server refused to answer (REFUSED)', 'The server is not authoritative for this name and does not resolve for this client.'];
    case 'FORMERR': return ['The server could not parse the query (FORMERR)', 'Often an old server or middlebox that does not understand EDNS.'];
    case 'NOTIMP': return ['The server does not implement this kind of query (NOTIMP)', ''];
    default: return [`The server answered ${rcode}`, ''];
  }
}

export function dns(root: HTMLElement): void {
  const server = select('server', [['', 'Server default (upstream)']]);
  resolverNames().then((ns) => ns.forEach((n) => { if (![...server.options].some((o) => o.value === n)) server.append(h('option', { value: n }, n)); }));
  toolPage(root, {
    path: '/dns', kind: 'dns', title: 'DNS lookup', intro: 'Ask a resolver for a record and read the whole answer.', submit: 'Look up',
    fields: [field('Name', input('target', { required: true, placeholder: 'example.com' })), field('Type', select('type', types, 'A')),
      field('Resolver', server, 'Named resolvers as listed by /api/v1/resolvers'), checkbox('dnssec', 'DNSSEC (DO bit)')],
    run: (f) => run('dns', val(f, 'target'), { type: val(f, 'type'), server: val(f, 'server') || undefined, dnssec: checked(f, 'dnssec') || undefined }),
    render: (r, out, f) => {
      const rc = r.header?.rcode ?? '';
      const name = r.question?.[0]?.name ?? val(f, 'target');
      const qtype = r.question?.[0]?.type ?? val(f, 'type');
      const n = (r.answer ?? []).filter((x: any) => x.type === qtype || qtype === 'ANY').length;
      let v: HTMLElement;
      if (r.error || !rc) v = verdictBox('fail', 'No reply from the resolver', 'Every try timed out or the connection failed.', r.error);
      else if (rc === 'NOERROR' && n) v = verdictBox('ok', `${name} has ${n} ${qtype} record${n > 1 ? 's' : ''}`, `Answered by ${r.server_name || r.server} in ${ms(r.rtt_ms)}.`);
      else if (rc === 'NOERROR') v = verdictBox('warn', `${name} exists but has no ${qtype} record`, (r.answer ?? []).length ? 'The answer holds other types (an alias chain).' : 'The name exists (NOERROR) with no data of this type (NODATA).');
      else { const [t, d] = rcodeMeaning(rc, name); v = verdictBox('fail', t, d); }
      v.dataset.rcode = rc;
      out.append(v, h('div', { class: 'summary' },
        h('span', { class: `badge ${rc === 'NOERROR' ? 'ok' : 'fail'}`, 'data-rcode': rc }, rc || 'no reply'),
        h('span', {}, `${r.server} over ${r.transport}`), h('span', {}, ms(r.rtt_ms)), h('span', {}, `flags: ${(r.header?.flags ?? []).join(' ')}`),
        h('span', {}, `${r.reply_size} bytes`)),
      h('h2', {}, 'Answer'), records(r.answer), h('h2', {}, 'Authority'), records(r.authority), h('h2', {}, 'Additional'), records(r.additional));
    },
  });
}

// propagationVerdict names the resolvers that differ, fail or miss the
// expected value.
export function propagationVerdict(r: any): HTMLElement {
  const results: any[] = r.results ?? [];
  const where = (a: any) => `${a.resolver}${a.location?.city ? ` (${a.location.city})` : ''}`;
  const missing = results.filter((a) => a.missing?.length);
  const failing = results.filter((a) => a.group < 0 || a.error);
  const major = r.groups?.[0];
  const differ = results.filter((a) => a.group > 0);
  let v: HTMLElement;
  if (r.consistent) {
    v = verdictBox('ok', `All ${results.length} resolvers agree`, major ? `${(major.answers ?? []).join(', ') || major.rcode}` : '');
  } else if (missing.length) {
    v = verdictBox('fail', `Expected value missing at ${missing.length} of ${results.length} resolvers`,
      missing.map((a) => `${where(a)} lacks ${a.missing.join(', ')}${a.answers?.length ? ` (answers ${a.answers.join(', ')})` : ''}`).join('; ') + '.');
  } else if (differ.length) {
    v = verdictBox('warn', `${differ.length} of ${results.length} resolvers give a different answer`,
      `${differ.map((a) => `${where(a)}: ${(a.answers ?? []).join(', ') || a.rcode}`).join('; ')}; the others: ${(major?.answers ?? []).join(', ') || major?.rcode}. A recent change may still be propagating (TTL).`);
  } else {
    v = verdictBox('fail', `${failing.length} of ${results.length} resolvers failed`, failing.map((a) => `${where(a)}: ${a.error ?? a.rcode}`).join('; '));
  }
  v.dataset.verdict = r.verdict;
  return v;
}

export function propagation(root: HTMLElement): void {
  const mapEl = h('div', { class: 'map map-small', role: 'region', 'aria-label': 'Map of resolvers' });
  let map: Leaflet.Map | undefined;
  let layer: Leaflet.LayerGroup | undefined;
  let mapMod: typeof import('../map') | undefined;
  let fitted = false;
  const colour = (g: number) => (g < 0 ? '#868e96' : mapMod ? mapMod.palette[g % mapMod.palette.length] : '#1d4ed8');
  const draw = (answers: any[]) => {
    if (!map || !mapMod) return;
    const L = mapMod.L;
    layer?.remove();
    layer = L.layerGroup().addTo(map);
    const located = answers.filter((a) => a.location && (a.location.lat || a.location.lon));
    for (const a of located) {
      L.circleMarker([a.location.lat, a.location.lon], { radius: 8, color: '#fff', weight: 2, fillColor: colour(a.group ?? 0), fillOpacity: 1, className: 'resolver-marker' })
        .bindTooltip(`${mapMod.escapeHTML(a.resolver)}: ${mapMod.escapeHTML(a.error ? a.error : (a.answers ?? []).join(', ') || a.rcode)}`).addTo(layer);
    }
    if (located.length > 1 && !fitted) {
      map.fitBounds(L.latLngBounds(located.map((a) => L.latLng(a.location.lat, a.location.lon))).pad(0.2), { maxZoom: 4, animate: false });
    }
  };
  toolPage(root, {
    path: '/propagation', kind: 'propagation', title: 'DNS propagation', intro: 'Ask many resolvers at once; resolvers that agree share a colour.', submit: 'Check',
    fields: [field('Name', input('target', { required: true, placeholder: 'example.com' })), field('Type', select('type', types.filter((t) => t !== 'ANY'), 'A')),
      field('Expect', input('expect', { placeholder: '192.0.2.1 (optional)' }), 'Values every resolver should return, comma-separated')],
    aside: h('div', { class: 'aside-map' }, mapEl),
    run: (f, out) => {
      const seen: any[] = [];
      const tbody = h('tbody');
      out.replaceChildren(h('p', { class: 'muted working' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Asking the resolvers…'),
        h('table', { class: 'answers' }, h('thead', {}, h('tr', {}, h('th', {}, 'Resolver'), h('th', {}, 'Answer'), h('th', {}, 'RTT'))), tbody));
      return run('propagation', val(f, 'target'), { type: val(f, 'type'), expect: list(f, 'expect').length ? list(f, 'expect') : undefined }, (ev) => {
        if (ev.type !== 'answer') return;
        seen.push(ev.data);
        tbody.append(h('tr', {}, h('td', {}, ev.data.resolver), h('td', { class: 'mono' }, ev.data.error ?? (ev.data.answers ?? []).join(', ')), h('td', { class: 'num' }, ms(ev.data.rtt_ms))));
        draw(seen);
      });
    },
    render: (r, out) => {
      draw(r.results ?? []);
      out.append(propagationVerdict(r),
        scroller(h('table', { class: 'answers' },
          h('thead', {}, h('tr', {}, ...['Resolver', 'Place', 'Answer', 'TTL', 'RTT'].map((t, i) => h('th', { scope: 'col', class: i > 2 ? 'num' : undefined }, t)))),
          h('tbody', {}, ...(r.results ?? []).map((a: any) => h('tr', { 'data-group': a.group, 'data-resolver': a.resolver, class: a.missing?.length || a.group !== 0 ? 'differs' : '' },
            h('td', {}, h('span', { class: 'dot', style: `background:${colour(a.group)}`, 'aria-hidden': 'true' }), ' ', a.resolver, a.operator ? h('small', { class: 'sub' }, a.operator) : ''),
            h('td', {}, [a.location?.city, a.location?.country].filter(Boolean).join(', ')),
            h('td', { class: 'mono wrap' }, a.error ? badge(a.error, 'fail') : (a.answers ?? []).join(', ') || a.rcode,
              a.missing?.length ? h('small', { class: 'sub missing' }, `missing ${a.missing.join(', ')}`) : ''),
            h('td', { class: 'num' }, a.ttl ?? ''), h('td', { class: 'num' }, ms(a.rtt_ms))))))));
    },
  });
  import('../map').then(async (m) => {
    mapMod = m;
    map = await m.worldMap(mapEl);
    map.on('zoomstart movestart', () => { fitted = true; });
  });
}

// scanFindings lists what a domain lacks, worded for its owner.
function scanFindings(r: any): string[] {
  const rec = r.records ?? {};
  const out: string[] = [];
  if (!rec.NS?.length) out.push('No NS records returned for this name (it may be a host inside a zone rather than a zone).');
  if (!rec.A?.length && !rec.AAAA?.length) out.push('No A or AAAA record: the name has no web address.');
  if (rec.A?.length && !rec.AAAA?.length) out.push('No AAAA record: not reachable over IPv6.');
  if (!rec.MX?.length) out.push('No MX record: the domain receives no mail.');
  if (!(rec.TXT ?? []).some((t: string) => /v=spf1/i.test(t))) out.push('No SPF record (TXT "v=spf1 …"): anyone may send mail as this domain.');
  if (!(r.dmarc ?? []).length) out.push('No DMARC record at _dmarc: receivers get no policy for failed mail checks.');
  if (!rec.CAA?.length) out.push('No CAA record: any certificate authority may issue for this domain.');
  return out;
}

export function scan(root: HTMLElement): void {
  toolPage(root, {
    path: '/scan', title: 'Domain scan', intro: 'The common records of a domain on one page, with what is missing.', submit: 'Scan',
    fields: [field('Domain', input('target', { required: true, placeholder: 'example.com' }))],
    run: async (f) => {
      const d = encodeURIComponent(val(f, 'target'));
      const [sc, soa] = await Promise.all([getJSON<any>(`/api/scan/${d}`), getJSON<any>(`/api/v1/dns/${d}/SOA`).catch((e) => ({ error: String(e?.message ?? e) }))]);
      return { ...sc, rcode: soa.header?.rcode, rcode_error: soa.error };
    },
    render: (r, out) => {
      const rows = Object.entries(r.records ?? {}).map(([t, v]) => [h('strong', {}, t), (v as string[]).length ? h('span', { class: 'mono wrap' }, ...(v as string[]).flatMap((x) => [x, h('br')])) : h('span', { class: 'muted' }, 'none')]);
      rows.push([h('strong', {}, 'DMARC'), h('span', { class: 'mono wrap' }, (r.dmarc ?? []).join(' ') || '–')]);
      const found = Object.values(r.records ?? {}).filter((v) => (v as string[]).length).length;
      let v: HTMLElement;
      if (r.rcode && r.rcode !== 'NOERROR') {
        const [t, d] = rcodeMeaning(r.rcode, r.domain);
        v = verdictBox('fail', t, d, r.errors ? Object.entries(r.errors).map(([k, e]) => `${k}: ${e}`).join('\n') : undefined);
      } else if (r.errors && Object.keys(r.errors).length) {
        v = verdictBox('fail', `Some lookups failed: ${Object.keys(r.errors).join(', ')}`, 'The resolver did not answer every question; the records below are incomplete.',
          Object.entries(r.errors).map(([k, e]) => `${k}: ${e}`).join('\n'));
      } else if (!found) {
        v = verdictBox('warn', `${r.domain} exists but has none of the common records`, 'The name answers NOERROR with no A, AAAA, MX, NS, TXT, SOA or CAA data.');
      } else {
        const f = scanFindings(r);
        v = verdictBox(f.length ? 'warn' : 'ok', `${r.domain} resolves: ${found} record type${found > 1 ? 's' : ''} found${f.length ? `, ${f.length} finding${f.length > 1 ? 's' : ''}` : ''}`,
          f.length ? [h('ul', { class: 'findings' }, ...f.map((x) => h('li', {}, x)))] : 'Mail, policy and certificate records are all present.');
      }
      v.dataset.rcode = r.rcode ?? '';
      out.append(v, h('div', { class: 'summary' }, r.rcode ? badge(r.rcode, r.rcode === 'NOERROR' ? 'ok' : 'fail') : '', r.domain, r.cached ? badge('cached', 'muted') : ''),
        table(['Type', 'Records'], rows, 'records'));
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
      const diff: string[] = r.differences ?? [];
      out.append(diff.length ? verdictBox('warn', `${diff.length} record type${diff.length > 1 ? 's' : ''} differ: ${diff.join(', ')}`) : verdictBox('ok', 'The two domains have the same records'),
        scroller(h('table', { class: 'records' }, h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, a), h('th', {}, b))),
          h('tbody', {}, ...Object.entries(r.records ?? {}).map(([t, v]: [string, any]) => h('tr', { class: diff.includes(t) ? 'differs' : '' },
            h('td', {}, h('strong', {}, t), diff.includes(t) ? [' ', badge('differs', 'warn')] : ''),
            h('td', { class: 'mono wrap' }, (v[a] ?? []).join('\n') || '–'), h('td', { class: 'mono wrap' }, (v[b] ?? []).join('\n') || '–')))))));
    },
  });
}
