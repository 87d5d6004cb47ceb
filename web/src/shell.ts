// The page frame: header with the tool navigation, main area, footer; the
// page's title and description.
import { h } from './dom';

export interface Tool { path: string; name: string; short: string; blurb: string; icon: string }

export const tools: Tool[] = [
  { path: '/visualtrace', name: 'Visual traceroute', short: 'Traceroute', icon: 'TR', blurb: 'Trace the route to a host from one or more locations and watch every hop land on a world map, with its network and city.' },
  { path: '/dns', name: 'DNS lookup', short: 'DNS', icon: 'DNS', blurb: 'Ask a resolver for any record type and read the full answer: flags, sections, TTLs and timing.' },
  { path: '/propagation', name: 'Propagation', short: 'Propagation', icon: 'PR', blurb: 'Ask resolvers around the world at once and see who agrees, on a map and in a table.' },
  { path: '/diagnose', name: 'Diagnose', short: 'Diagnose', icon: 'DX', blurb: 'Walk DNS → TCP → TLS → HTTP for a URL and name the first layer that fails, with the evidence.' },
  { path: '/http', name: 'HTTP check', short: 'HTTP', icon: 'HTTP', blurb: 'Fetch a URL and see where the time goes: DNS, connect, TLS and first byte as a waterfall.' },
  { path: '/cert', name: 'Certificate check', short: 'Certificates', icon: 'TLS', blurb: 'Inspect the TLS chain a server sends, its trust, hostname match, expiry and findings.' },
  { path: '/tcp', name: 'TCP connect', short: 'TCP', icon: 'TCP', blurb: 'Open a TCP connection to host:port, time it, and optionally send a line and match the banner.' },
  { path: '/ws', name: 'WebSocket test', short: 'WebSocket', icon: 'WS', blurb: 'Open a WebSocket, send a message, match the reply, and time the upgrade.' },
  { path: '/geo', name: 'IP geolocation', short: 'IP geo', icon: 'GEO', blurb: 'Where an address is and which network announces it: city, country, ASN, and special-purpose ranges.' },
  { path: '/scan', name: 'Domain scan', short: 'Scan', icon: 'SC', blurb: 'All the common records of a domain on one page, with what is missing: A, AAAA, MX, NS, TXT, CAA, DMARC.' },
  { path: '/domainhealth', name: 'Domain health', short: 'Health', icon: 'HC', blurb: 'Every name server of a domain and its parent, the DNSSEC chain of trust drawn link by link, mail and web records: each finding with its evidence.' },
  { path: '/roots', name: 'Root servers', short: 'Roots', icon: 'ROOT', blurb: 'Which instance of each of the 13 root servers answers from each location, over IPv4 and IPv6, on a map.' },
  { path: '/snapshots', name: 'Record snapshots', short: 'Snapshots', icon: 'SN', blurb: 'Save a domain\'s records before a change, then see what was added, removed and changed, against a later snapshot or now.' },
  { path: '/compare', name: 'Compare domains', short: 'Compare', icon: 'A/B', blurb: 'Two domains side by side, record type by record type, with the differences marked.' },
];

// watch are the monitor's pages, at the right of the header.
const watch: [string, string][] = [['/checks', 'Checks'], ['/status', 'Status']];

// setMeta sets the page's title and description (what a shared link shows).
export function setMeta(title: string, description: string): void {
  document.title = `${title} · dnsscience`;
  let meta = document.querySelector<HTMLMetaElement>('meta[name=description]');
  if (!meta) {
    meta = h('meta', { name: 'description' });
    document.head.append(meta);
  }
  meta.content = description;
}

export function shell(current: string, title: string, intro: string, ...content: (HTMLElement | string | undefined)[]): HTMLElement {
  const description = typeof content[content.length - 1] === 'string' ? (content.pop() as string) : undefined;
  setMeta(title, description || intro || tools.find((t) => t.path === current)?.blurb || title);
  const nav = h('nav', { class: 'tools-nav', 'aria-label': 'Tools' },
    ...tools.map((t) => h('a', { href: t.path, title: t.name, 'aria-current': t.path === current ? 'page' : undefined }, t.short)));
  return h('div', { class: 'frame' },
    h('a', { class: 'skip', href: '#main' }, 'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', href: '/tools' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◎'), 'dnsscience'),
      nav,
      h('nav', { class: 'watch-nav', 'aria-label': 'Monitoring' },
        ...watch.map(([path, label]) => h('a', { class: 'api-link', href: path, 'aria-current': path === current ? 'page' : undefined }, label))),
      h('a', { class: 'api-link', href: '/api/docs' }, 'API')),
    h('main', { id: 'main', tabindex: '-1' },
      h('div', { class: 'page-head' }, h('h1', {}, title), intro ? h('p', { class: 'lead' }, intro) : null),
      ...content.filter((c): c is HTMLElement => c instanceof HTMLElement)),
    h('footer', {}, 'dnsscience · ', h('a', { href: '/api/docs' }, 'API docs'), ' · ', h('a', { href: '/api/openapi.json' }, 'OpenAPI'), ' · ',
      h('a', { href: '/health' }, 'health')));
}
