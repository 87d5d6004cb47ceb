// The connection tools: HTTP, certificate, TCP and WebSocket probes, and IP
// geolocation. Each leads with a verdict in words.
import { run } from '../api';
import { badge, checkbox, field, h, input, ms, select, table, scroller } from '../dom';
import { toolPage, val, verdictBox, VerdictKind } from './tool';

export function waterfall(t: any): HTMLElement {
  const phases: [string, number, number][] = [];
  let at = 0;
  for (const [k, name] of [['dns_ms', 'DNS'], ['connect_ms', 'Connect'], ['tls_ms', 'TLS']] as const) {
    if (t[k] > 0) { phases.push([name, at, t[k]]); at += t[k]; }
  }
  if (t.first_byte_ms > at) phases.push(['Waiting (first byte)', at, t.first_byte_ms - at]);
  const after = Math.max(at, t.first_byte_ms || 0);
  if (t.total_ms > after) phases.push(['Transfer', after, t.total_ms - after]);
  const total = t.total_ms || 1;
  return h('div', { class: 'waterfall', role: 'table', 'aria-label': 'Phase timings' },
    ...phases.map(([name, start, dur]) => h('div', { class: 'wf-row', role: 'row' },
      h('span', { class: 'wf-name', role: 'cell' }, name),
      h('span', { class: 'wf-track', role: 'cell' }, h('span', { class: 'wf-bar', style: `left:${(100 * start) / total}%;width:${Math.max(0.5, (100 * dur) / total)}%` })),
      h('span', { class: 'wf-ms num', role: 'cell' }, ms(dur)))),
    h('div', { class: 'wf-row total', role: 'row' }, h('span', { class: 'wf-name', role: 'cell' }, 'Total'), h('span', { role: 'cell' }), h('span', { class: 'wf-ms num', role: 'cell' }, ms(t.total_ms))));
}

const phaseWords: Record<string, string> = {
  dns: 'The name did not resolve', policy: 'The target is not allowed by this server’s policy', connect: 'Could not connect',
  send: 'Sending failed', read: 'Reading the reply failed', tls: 'The TLS handshake failed', http: 'The HTTP exchange failed',
  upgrade: 'The WebSocket upgrade failed', message: 'The reply did not match',
};

// probeFailure is the verdict for a probe that did not get an answer.
function probeFailure(r: any): HTMLElement {
  const e = String(r.error ?? '');
  const why = /refused/i.test(e) ? 'the connection was refused: nothing listens on that port, or a firewall rejects it'
    : /timeout|deadline/i.test(e) ? 'no answer in time: a firewall may drop the packets, or the host is down'
      : /no such host|NXDOMAIN/i.test(e) ? 'the host name does not exist' : '';
  return verdictBox('fail', phaseWords[r.failed_phase] ?? 'The check failed', why ? `In short: ${why}.` : undefined, e);
}

export function httpVerdict(r: any): HTMLElement {
  const x = r.http ?? {};
  const s = Number(x.status) || 0;
  if (!s) return probeFailure(r);
  const line = `${s} ${x.status_text ?? ''}`.trim();
  const t = ms(r.timings?.total_ms);
  let kind: VerdictKind = 'ok', title = `${line} in ${t}`, detail = 'The server answered successfully.';
  if (s >= 500) [kind, title, detail] = ['fail', `Server error: ${line}`, s === 502 || s === 504 ? 'A proxy or load balancer could not get a good answer from the application behind it.' : 'The server failed while handling the request; its logs say why.'];
  else if (s >= 400) [kind, title, detail] = ['fail', `Client error: ${line}`, s === 404 ? 'The server has nothing at this path.' : s === 401 || s === 403 ? 'The server wants credentials or refuses this client.' : 'The server refused the request as sent.'];
  else if (s >= 300) [kind, title, detail] = ['warn', `Redirect: ${line}`, x.headers?.Location ? `To ${x.headers.Location.join(', ')} (turn on "Follow redirects" to follow it).` : 'Turn on "Follow redirects" to follow it.'];
  const v = verdictBox(kind, title, detail);
  v.dataset.status = String(s);
  return v;
}

const fact = (k: string, v: any) => h('div', { class: 'fact' }, h('span', { class: 'k' }, k), h('span', { class: 'v' }, v));

export function http(root: HTMLElement): void {
  toolPage(root, {
    path: '/http', kind: 'http', title: 'HTTP check', intro: 'Fetch a URL and see where the time goes.', submit: 'Fetch',
    fields: [field('URL', input('target', { required: true, placeholder: 'https://example.com/' })), field('Method', select('method', ['GET', 'HEAD', 'POST', 'OPTIONS'], 'GET')),
      checkbox('follow_redirects', 'Follow redirects', true)],
    run: (f) => run('http', val(f, 'target'), { method: val(f, 'method'), follow_redirects: (f.elements.namedItem('follow_redirects') as HTMLInputElement).checked }),
    render: (r, out) => {
      const x = r.http ?? {};
      out.append(httpVerdict(r), h('div', { class: 'facts' }, fact('Status', x.status ? `${x.status} ${x.status_text ?? ''}` : '–'), fact('Address', r.address ?? '–'), fact('Protocol', x.proto ?? '–'),
        fact('Body', `${x.body_size ?? 0} bytes`), fact('TLS', x.tls_version ?? '–'), x.final_url ? fact('Final URL', x.final_url) : ''),
      h('h2', {}, 'Timing'), waterfall(r.timings ?? {}),
      x.headers ? h('details', {}, h('summary', {}, 'Response headers'), table(['Header', 'Value'], Object.entries(x.headers).map(([k, v]) => [k, (v as string[]).join(', ')]))) : '');
    },
  });
}

export function tcp(root: HTMLElement): void {
  toolPage(root, {
    path: '/tcp', kind: 'tcp', title: 'TCP connect', intro: 'Open a TCP connection and time it; optionally send a line and match the banner.', submit: 'Connect',
    fields: [field('Host and port', input('target', { required: true, placeholder: 'example.com:22' })), field('Send', input('send', { placeholder: 'optional, e.g. EHLO x' })),
      field('Expect', input('expect', { placeholder: 'text the banner must contain' })), field('Timeout (ms)', input('timeout_ms', { type: 'number', min: 1, placeholder: 'auto' }))],
    run: (f) => run('tcp', val(f, 'target'), { send: val(f, 'send') || undefined, expect: val(f, 'expect') || undefined, timeout_ms: Number(val(f, 'timeout_ms')) || undefined }),
    render: (r, out, f) => {
      const c = r.tcp ?? {};
      let v: HTMLElement;
      if (!r.ok) v = probeFailure(r);
      else if (val(f, 'expect') && !c.matched) v = verdictBox('fail', 'Connected, but the banner did not match', `The server did not send “${val(f, 'expect')}”.`);
      else v = verdictBox('ok', `Connected to ${r.address} in ${ms(r.timings?.connect_ms)}`, c.received ? 'The server sent a banner (below).' : 'The port is open.');
      out.append(v, h('div', { class: 'facts' }, fact('Address', r.address ?? '–'), fact('Family', c.family ?? '–'), fact('Local', c.local ?? '–'),
        fact('Matched', c.matched ? badge('yes', 'ok') : '–')),
      c.received ? h('div', {}, h('h2', {}, 'Received'), h('pre', { class: 'mono wrap banner' }, c.received)) : '',
      h('h2', {}, 'Timing'), waterfall(r.timings ?? {}));
    },
  });
}

export function cert(root: HTMLElement): void {
  toolPage(root, {
    path: '/cert', kind: 'cert', title: 'Certificate check', intro: 'The chain a TLS server sends: trust, hostname, expiry and findings.', submit: 'Check',
    fields: [field('Host and port', input('target', { required: true, placeholder: 'example.com:443' })), field('SNI', input('sni', { placeholder: 'default: the host' })),
      field('Warn days', input('warn_days', { type: 'number', min: 0, value: 21 }))],
    run: (f) => run('cert', val(f, 'target'), { sni: val(f, 'sni') || undefined, warn_days: Number(val(f, 'warn_days')) || undefined }),
    render: (r, out, f) => {
      const t = r.tls ?? {};
      const warnDays = Number(val(f, 'warn_days')) || 21;
      const problems = (t.findings ?? []).map((x: any) => x.detail || x.name);
      let v: HTMLElement;
      if (!t.version) v = probeFailure(r);
      else if (!t.trusted || !t.hostname_ok || t.days_left < 0) {
        v = verdictBox('fail', !t.trusted ? 'Browsers will not trust this certificate' : !t.hostname_ok ? 'The certificate is not for this name' : 'The certificate has expired',
          problems.join('; ') || t.trust_error, t.trust_error);
      } else if (t.days_left < warnDays) v = verdictBox('warn', `Trusted, but expires in ${t.days_left} days`, 'Renew it soon.');
      else v = verdictBox('ok', `Trusted certificate, ${t.days_left} days left`, `${t.version}, ${t.cipher_suite ?? ''}`);
      out.append(v, h('div', { class: 'facts' },
        fact('Trusted', t.trusted ? badge('yes', 'ok') : badge('no', 'fail')),
        fact('Hostname matches', t.hostname_ok ? badge('yes', 'ok') : badge('no', 'fail')),
        fact('Days left', h('span', { class: `badge ${t.days_left < 0 ? 'fail' : t.days_left < warnDays ? 'warn' : 'ok'}` }, String(t.days_left ?? '–'))),
        fact('Expires', t.leaf_expiry ? new Date(t.leaf_expiry).toUTCString() : '–'),
        fact('Version', t.version ?? '–'), fact('Cipher', t.cipher_suite ?? '–')),
      t.findings?.length ? h('div', {}, h('h2', {}, 'Findings'), h('ul', { class: 'findings' }, ...t.findings.map((x: any) => h('li', {}, h('strong', {}, x.name), ': ', x.detail)))) : '',
      h('h2', {}, 'Chain'),
      scroller(table(['#', 'Subject', 'Issuer', 'Key', 'Not after'], (t.chain ?? []).map((c: any, i: number) => [i, c.subject, c.issuer, `${c.key_type} ${c.key_bits}`, new Date(c.not_after).toISOString().slice(0, 10)]))));
    },
  });
}

export function ws(root: HTMLElement): void {
  toolPage(root, {
    path: '/ws', kind: 'ws', title: 'WebSocket test', intro: 'Open a WebSocket, optionally send a message and match the reply.', submit: 'Connect',
    fields: [field('URL', input('target', { required: true, placeholder: 'wss://example.com/socket' })), field('Send', input('send', { placeholder: 'optional message' })),
      field('Expect', input('expect', { placeholder: 'text the reply must contain' }))],
    run: (f) => run('ws', val(f, 'target'), { send: val(f, 'send') || undefined, expect: val(f, 'expect') || undefined }),
    render: (r, out, f) => {
      const w = r.ws ?? {};
      let v: HTMLElement;
      if (!r.ok && w.status !== 101) v = probeFailure(r);
      else if (val(f, 'expect') && !w.matched) v = verdictBox('fail', 'Upgraded, but the reply did not match', `Expected “${val(f, 'expect')}”, received “${w.received ?? ''}”.`);
      else v = verdictBox('ok', `WebSocket open in ${ms(r.timings?.total_ms)}`, w.matched ? 'The reply matched.' : 'The upgrade succeeded (101).');
      out.append(v, h('div', { class: 'facts' }, fact('Upgrade status', w.status ?? '–'), fact('Subprotocol', w.subprotocol || '–'),
        fact('Received', w.received ?? '–'), fact('Matched', w.matched ? badge('yes', 'ok') : '–'), fact('Closed', w.close_code ? `${w.close_code} by ${w.closed_by}` : '–')),
      h('h2', {}, 'Timing'), waterfall(r.timings ?? {}));
    },
  });
}

export function geo(root: HTMLElement): void {
  toolPage(root, {
    path: '/geo', kind: 'geo', title: 'IP geolocation', intro: 'Where an address is and which network announces it.', submit: 'Locate',
    fields: [field('Addresses or host', input('target', { required: true, placeholder: '192.0.2.1, 2001:db8::1 or example.com' }), 'One or more, separated by commas or spaces')],
    run: (f) => run('geo', val(f, 'target'), {}),
    render: (r, out) => {
      const as: any[] = r.addresses ?? [];
      const located = as.filter((a) => a.located);
      const first = as[0] ?? {};
      const where = (a: any) => [a.city, a.region, a.country].filter(Boolean).join(', ');
      let v: HTMLElement;
      if (as.length === 1 && first.special) v = verdictBox('warn', `${first.addr} is a ${first.special} address`, `${first.special_note ?? 'A special-purpose range'}: not on the public Internet, so it has no place.`);
      else if (as.length === 1 && first.located) v = verdictBox('ok', `${first.addr} is in ${where(first) || 'a known place'}`, first.asn ? `Announced by AS${first.asn} ${first.as_org ?? ''}.` : '');
      else if (as.length === 1) v = verdictBox('warn', `No place known for ${first.addr}`, first.note ?? '');
      else v = verdictBox(located.length === as.length ? 'ok' : 'warn', `${located.length} of ${as.length} addresses located`);
      out.append(v, scroller(table(['Address', 'Place', 'Network', 'Note'], as.map((a) => [
        h('span', { class: 'mono' }, a.addr), where(a) || '–', a.asn ? `AS${a.asn} ${a.as_org ?? ''}` : '–', a.special_note ?? a.note ?? (a.accuracy_radius_km ? `± ${a.accuracy_radius_km} km` : '')]), 'geo')),
      (r.attributions ?? []).length ? h('p', { class: 'credits muted' }, 'Data: ', ...(r.attributions ?? []).flatMap((x: any, i: number) => [i ? ', ' : '', x.url ? h('a', { href: x.url }, x.text) : x.text])) : '');
    },
  });
}
