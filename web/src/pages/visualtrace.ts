// The visual traceroute: traces from one or more locations, drawn live on
// the world map, with a table per trace.
import * as L from 'leaflet';
import { getJSON, Measurement, postMeasurement, stream } from '../api';
import { badge, checkbox, download, field, h, input, ms, select, showError } from '../dom';
import { escapeHTML, greatCircle, palette, worldMap } from '../map';
import { shell } from '../shell';

interface Location { id: string; name: string; provider: string; latitude: number | null; longitude: number | null; status: string; reason?: string }
// located: the location's coordinates are known (null when not; never 0,0).
const located = (l?: Location): l is Location & { latitude: number; longitude: number } => !!l && l.latitude != null && l.longitude != null;
interface HopAddr { addr: string; name?: string; asn?: number; as_org?: string; city?: string; country?: string; located?: boolean; lat?: number; lon?: number; special?: string; label?: string }
interface Hop { ttl: number; addrs: HopAddr[]; probes: { rtt_ms?: number; timeout?: boolean }[]; reached?: boolean; flag?: string; stats: { sent: number; received: number; loss_pct: number; avg_ms: number; best_ms: number; worst_ms: number } }

const hostRE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
const ipv4RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function validTarget(v: string): string | null {
  const t = v.trim().replace(/^\[|\]$/g, '');
  if (!t) return 'Enter a host name or an IP address.';
  if (/[/:]/.test(t) && !t.includes(':')) return 'Enter a host name or IP address, not a URL.';
  if (t.includes(':')) return /^[0-9a-f:.]+$/i.test(t) && t.split('::').length <= 2 ? null : 'That is not a valid IPv6 address.';
  if (/^[\d.]+$/.test(t)) return ipv4RE.test(t) ? null : 'That is not a valid IPv4 address.';
  return hostRE.test(t) ? null : 'That is not a valid host name (letters, digits, hyphens and dots).';
}

// Trace is one trace on the map and its table.
class Trace {
  hops = new Map<number, Hop>();
  layer: L.LayerGroup;
  markers = new Map<string, L.CircleMarker>();
  rows = new Map<number, HTMLTableRowElement>();
  body: HTMLTableSectionElement;
  status: HTMLElement;
  unlocated: HTMLElement;
  measurement?: Measurement;
  card: HTMLElement;

  constructor(public id: string, public loc: Location | undefined, public colour: string, private map: L.Map, target: string) {
    this.layer = L.layerGroup().addTo(map);
    this.body = h('tbody');
    this.status = badge('queued', 'muted');
    this.unlocated = h('ul', { class: 'unlocated' });
    const from = loc ? loc.name : 'this server';
    this.card = h('section', { class: 'trace-card', 'data-measurement': id, style: `--trace:${colour}` },
      h('div', { class: 'trace-head' }, h('span', { class: 'swatch', 'aria-hidden': 'true' }),
        h('h2', {}, `${target} from ${from}`), this.status),
      h('div', { class: 'table-wrap' }, h('table', { class: 'hops' },
        h('caption', { class: 'sr-only' }, `Hops to ${target} from ${from}`),
        h('colgroup', {}, ...['c-ttl', 'c-addr', 'c-name', 'c-asn', 'c-place', 'c-rtt', 'c-loss'].map((c) => h('col', { class: c }))),
        h('thead', {}, h('tr', {}, ...['#', 'Address', 'Reverse name', 'Network', 'Place', 'RTT best / avg / worst', 'Loss'].map((t) => h('th', { scope: 'col' }, t)))),
        this.body)),
      h('div', { class: 'unlocated-box' }, h('h3', {}, 'Not on the map'), this.unlocated));
    if (located(loc)) {
      L.marker([loc.latitude, loc.longitude], {
        icon: L.divIcon({ className: 'source-marker', html: `<span style="background:${colour}"></span>`, iconSize: [18, 18] }),
        title: `Source: ${loc.name}`, keyboard: false,
      }).bindTooltip(`Source: ${escapeHTML(loc.name)}`).addTo(this.layer);
    }
  }

  setStatus(s: string) {
    this.status.textContent = s;
    this.status.className = `badge ${s === 'finished' ? 'ok' : s === 'failed' ? 'fail' : 'muted'}`;
  }

  upsert(hop: Hop) {
    this.hops.set(hop.ttl, hop);
    this.renderRow(hop);
    this.drawMap();
  }

  private renderRow(hop: Hop) {
    const a = hop.addrs?.[0];
    const place = a?.located ? [a.city, a.country].filter(Boolean).join(', ') || 'located' : null;
    const note = !a ? badge('no answer', 'muted') : a.special ? badge(a.special, 'muted') : !a.located ? badge('unknown location', 'muted') : null;
    const s = hop.stats ?? { sent: 0, received: 0, loss_pct: 0, avg_ms: 0, best_ms: 0, worst_ms: 0 };
    const row = h('tr', { 'data-ttl': hop.ttl, tabindex: '0', class: a?.located ? 'located' : 'unlocated', 'aria-label': `Hop ${hop.ttl}` },
      h('td', { class: 'num' }, hop.ttl),
      h('td', { class: 'mono' }, a ? a.addr : '*', hop.addrs?.length > 1 ? h('small', {}, ` +${hop.addrs.length - 1}`) : null),
      h('td', { class: 'name' }, a?.name ?? ''),
      h('td', {}, a?.asn ? h('span', {}, `AS${a.asn}`, a.as_org ? h('small', {}, ` ${a.as_org}`) : null) : ''),
      h('td', {}, place ?? note ?? ''),
      h('td', { class: 'num' }, s.received ? [h('span', { class: 'rtt-full' }, `${num(s.best_ms)} / ${num(s.avg_ms)} / ${num(s.worst_ms)} ms`),
        h('span', { class: 'rtt-avg' }, `${num(s.avg_ms)} ms`)] : '–'),
      h('td', { class: 'num' }, s.sent ? `${Math.round(s.loss_pct)}%` : '–'));
    const key = a?.located ? placeKey(a) : '';
    const on = () => this.highlight(hop.ttl, key, true);
    const off = () => this.highlight(hop.ttl, key, false);
    row.addEventListener('mouseenter', on);
    row.addEventListener('mouseleave', off);
    row.addEventListener('focus', on);
    row.addEventListener('blur', off);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && key) this.map.panTo(this.markers.get(key)!.getLatLng());
      if (e.key === 'ArrowDown') (row.nextElementSibling as HTMLElement | null)?.focus();
      if (e.key === 'ArrowUp') (row.previousElementSibling as HTMLElement | null)?.focus();
    });
    const old = this.rows.get(hop.ttl);
    if (old) {
      old.replaceWith(row);
    } else {
      const after = [...this.rows.keys()].filter((t) => t < hop.ttl).sort((x, y) => y - x)[0];
      if (after === undefined) this.body.prepend(row); else this.rows.get(after)!.after(row);
    }
    this.rows.set(hop.ttl, row);
  }

  highlight(ttl: number, key: string, on: boolean) {
    this.rows.get(ttl)?.classList.toggle('hl', on);
    const m = key ? this.markers.get(key) : undefined;
    if (m) {
      m.setStyle({ radius: on ? 11 : 7, weight: on ? 3 : 2 });
      if (on) m.bringToFront();
    }
  }

  private drawMap() {
    for (const m of this.markers.values()) this.layer.removeLayer(m);
    this.markers.clear();
    this.layer.eachLayer((l) => { if (l instanceof L.Polyline) this.layer.removeLayer(l); });
    const hops = [...this.hops.values()].sort((a, b) => a.ttl - b.ttl);
    const groups = new Map<string, { a: HopAddr; ttls: number[] }>();
    const path: L.LatLng[] = [];
    this.unlocated.replaceChildren();
    if (located(this.loc)) path.push(L.latLng(this.loc.latitude, this.loc.longitude));
    for (const hop of hops) {
      const a = hop.addrs?.[0];
      if (!a?.located) {
        const why = !a ? 'no answer' : a.special ? `${a.special}${a.label ? ` (${a.label})` : ''}` : 'location unknown';
        this.unlocated.append(h('li', { 'data-ttl': hop.ttl }, h('strong', {}, `${hop.ttl}`), ' ', a ? h('span', { class: 'mono' }, a.addr) : '*', ` — ${why}`));
        continue;
      }
      const key = placeKey(a);
      const g = groups.get(key) ?? { a, ttls: [] };
      g.ttls.push(hop.ttl);
      groups.set(key, g);
      const ll = L.latLng(a.lat ?? 0, a.lon ?? 0);
      if (!path.length || !path[path.length - 1].equals(ll)) path.push(ll);
    }
    if (!this.unlocated.childElementCount) this.unlocated.append(h('li', { class: 'muted' }, 'Every hop that answered has a place.'));
    for (let i = 0; i + 1 < path.length; i++) {
      L.polyline(greatCircle(path[i], path[i + 1]), { color: this.colour, weight: 2.5, opacity: 0.85, className: 'hop-line', interactive: false }).addTo(this.layer);
    }
    for (const [key, g] of groups) {
      const m = L.circleMarker([g.a.lat ?? 0, g.a.lon ?? 0], {
        radius: 7, color: '#fff', weight: 2, fillColor: this.colour, fillOpacity: 1, className: `hop-marker ttl-${g.ttls.join('-')}`,
      }).bindTooltip(`<strong>${g.ttls.length > 1 ? 'Hops' : 'Hop'} ${g.ttls.join(', ')}</strong><br>${escapeHTML([g.a.city, g.a.country].filter(Boolean).join(', '))}`);
      m.on('mouseover', () => g.ttls.forEach((t) => this.highlight(t, key, true)));
      m.on('mouseout', () => g.ttls.forEach((t) => this.highlight(t, key, false)));
      m.on('click', () => this.rows.get(g.ttls[0])?.scrollIntoView({ block: 'nearest', behavior: 'smooth' }));
      m.addTo(this.layer);
      this.markers.set(key, m);
    }
  }

  bounds(): L.LatLngBounds | null {
    const pts = [...this.markers.values()].map((m) => m.getLatLng());
    if (located(this.loc)) pts.push(L.latLng(this.loc.latitude, this.loc.longitude));
    return pts.length ? L.latLngBounds(pts) : null;
  }
}

const num = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
const placeKey = (a: HopAddr) => `${(a.lat ?? 0).toFixed(2)},${(a.lon ?? 0).toFixed(2)}`;

export async function visualtrace(root: HTMLElement): Promise<void> {
  const target = input('target', { placeholder: 'example.com or 2001:db8::1', required: true, 'aria-describedby': 'f-target-hint', inputmode: 'url' });
  const protocol = select('protocol', [['icmp', 'ICMP'], ['udp', 'UDP'], ['tcp', 'TCP']], 'icmp');
  const port = input('port', { type: 'number', min: 1, max: 65535, placeholder: 'auto' });
  const maxHops = input('max_hops', { type: 'number', min: 1, max: 64, value: 30 });
  const queries = input('queries', { type: 'number', min: 1, max: 5, value: 3 });
  const timeout = input('timeout_ms', { type: 'number', min: 1, max: 5000, placeholder: 'auto' });
  const locBox = h('fieldset', { class: 'locations' }, h('legend', {}, 'Trace from'));
  const errors = h('div', { class: 'errors', 'aria-live': 'polite' });
  const run = h('button', { type: 'submit', class: 'primary' }, 'Trace');
  const form = h('form', { class: 'tool-form trace-form', novalidate: true },
    field('Target', target, 'A host name or an IP address'), locBox,
    h('details', { class: 'options' }, h('summary', {}, 'Options'),
      h('div', { class: 'row' }, field('Protocol', protocol), field('Port', port), field('Max hops', maxHops), field('Probes per hop', queries), field('Timeout (ms)', timeout)),
      checkbox('no_dns', 'Skip reverse DNS names')),
    h('div', { class: 'actions' }, run));
  const permalink = h('a', { class: 'permalink', href: '#', hidden: true }, 'Permalink');
  const exportBtn = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Export JSON');
  const mapEl = h('div', { class: 'map', id: 'map', role: 'region', 'aria-label': 'Map of the hops' });
  const traces = h('div', { class: 'traces' });
  const legend = h('p', { class: 'map-legend' }, h('span', { class: 'lg-src' }), ' source ', h('span', { class: 'lg-hop' }), ' hop (grouped by place) ', h('span', { class: 'lg-line' }), ' path');
  root.replaceChildren(shell('/visualtrace', 'Visual traceroute', 'Trace the route to a host and watch each hop appear on the map as it answers.',
    h('div', { class: 'vt-layout' },
      h('div', { class: 'vt-side' }, form, errors, h('div', { class: 'vt-actions' }, permalink, exportBtn)),
      h('div', { class: 'vt-map' }, mapEl, legend)),
    traces));

  const map = await worldMap(mapEl);
  let locations: Location[] = [];
  try {
    locations = (await getJSON<{ locations: Location[] }>('/api/v1/locations')).locations;
  } catch (e) { showError(errors, e); }
  locations.forEach((l, i) => {
    locBox.append(h('label', { class: 'loc-chip', style: `--c:${palette[i % palette.length]}` },
      h('input', { type: 'checkbox', name: 'location', value: l.id, checked: i === 0 && l.status === 'online', disabled: l.status !== 'online' }),
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      l.name, l.provider && l.provider !== 'self' ? h('small', {}, ` ${l.provider}`) : null,
      l.status !== 'online' ? h('small', { class: 'offline', title: l.reason ?? '' }, ' offline') : null));
  });
  const colourOf = (id: string) => palette[Math.max(0, locations.findIndex((l) => l.id === id)) % palette.length];

  let current: Trace[] = [];
  const reset = () => {
    current.forEach((t) => map.removeLayer(t.layer));
    current = [];
    traces.replaceChildren();
  };
  const fit = () => {
    const b = current.map((t) => t.bounds()).filter((x): x is L.LatLngBounds => !!x).reduce<L.LatLngBounds | null>((acc, x) => (acc ? acc.extend(x) : x), null);
    if (b) map.fitBounds(b.pad(0.3), { maxZoom: 5, animate: false });
  };
  new ResizeObserver(() => { map.invalidateSize(); fit(); }).observe(mapEl);
  map.on('moveend', () => { mapEl.dataset.view = `${map.getZoom()} ${map.getCenter().lat.toFixed(1)},${map.getCenter().lng.toFixed(1)}`; });
  const follow = (t: Trace, m: Measurement) => {
    t.setStatus(m.status);
    for (const hop of (m.result?.hops ?? []) as Hop[]) t.upsert(hop);
    t.measurement = m;
    if (m.status === 'failed') t.card.querySelector('.trace-head')!.after(h('p', { class: 'alert error' }, m.error ?? 'the trace failed'));
    fit();
    exportBtn.hidden = false;
  };
  const start = (ids: string[], locs: (Location | undefined)[], targetText: string) => {
    permalink.href = `/visualtrace?m=${ids.join(',')}`;
    permalink.hidden = false;
    history.replaceState(null, '', permalink.href);
    ids.forEach((id, i) => {
      const t = new Trace(id, locs[i], locs[i] ? colourOf(locs[i]!.id) : palette[i % palette.length], map, targetText);
      current.push(t);
      traces.append(t.card);
      stream(id, (ev) => {
        if (ev.type === 'hop') { t.setStatus('running'); t.upsert(ev.data as Hop); fit(); }
      }).then((m) => follow(t, m), (e) => showError(errors, e));
    });
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const bad = validTarget(target.value);
    target.setAttribute('aria-invalid', String(!!bad));
    if (bad) { errors.append(h('div', { class: 'alert error', role: 'alert' }, bad)); target.focus(); return; }
    const chosen = [...locBox.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => locations.find((l) => l.id === c.value)!);
    if (!chosen.length) { errors.append(h('div', { class: 'alert error', role: 'alert' }, 'Pick at least one location to trace from.')); return; }
    const options: Record<string, unknown> = { protocol: protocol.value, max_hops: Number(maxHops.value) || 0, queries: Number(queries.value) || 0 };
    if (port.value) options.port = Number(port.value);
    if (timeout.value) options.timeout_ms = Number(timeout.value);
    if ((form.elements.namedItem('no_dns') as HTMLInputElement).checked) options.no_dns = true;
    run.disabled = true;
    try {
      const ms = await Promise.all(chosen.map((l) => postMeasurement({ type: 'trace', target: target.value.trim(), options, locations: [l.id] })));
      reset();
      start(ms.map((m) => m.id), chosen, target.value.trim());
    } catch (err) {
      showError(errors, err, form);
    } finally {
      run.disabled = false;
    }
  });
  exportBtn.addEventListener('click', () => download(`trace-${current.map((t) => t.id).join('-')}.json`, current.map((t) => t.measurement ?? { id: t.id, hops: [...t.hops.values()] })));

  const ids = new URLSearchParams(location.search).get('m');
  if (ids) {
    const list = ids.split(',').filter(Boolean).slice(0, 8);
    try {
      const ms = await Promise.all(list.map((id) => getJSON<Measurement>(`/api/v1/measurements/${encodeURIComponent(id)}`)));
      target.value = ms[0]?.target ?? '';
      start(list, ms.map((m) => locations.find((l) => l.id === m.locations?.[0])), ms[0]?.target ?? '');
    } catch (err) { showError(errors, err); }
  }
}
