// What a trace means, apart from how it is drawn: hop states, which hops
// have a trustworthy place, the path through those places with its gaps,
// the AS path and the verdict line.

export interface Location { id: string; name: string; provider?: string; latitude?: number | null; longitude?: number | null; status?: string; reason?: string }
export interface HopAddr {
  addr: string; name?: string; asn?: number; as_org?: string; city?: string; country?: string; located?: boolean; lat?: number | null; lon?: number | null;
  special?: string; label?: string; anycast?: boolean; placement?: 'plausible' | 'implausible' | 'anycast_unplaced'; bound_km?: number;
}
export interface Stats { sent: number; received: number; loss_pct: number; last_ms?: number; avg_ms: number; best_ms: number; worst_ms: number; jitter_ms?: number; stddev_ms?: number }
export interface Hop {
  ttl: number; addrs?: HopAddr[]; probes?: { rtt_ms?: number; timeout?: boolean }[]; reached?: boolean; flag?: string;
  state?: 'answered' | 'rate_limited' | 'silent'; stats?: Stats;
}
export interface TraceResult { target?: string; reached?: boolean; hops?: Hop[]; rounds?: number; duration_ms?: number; protocol?: string }

export type HopState = 'answered' | 'rate_limited' | 'silent';

// hopState is the hop's state as the engine gave it; older data without it
// counts a hop with an address as answered.
export function hopState(h: Hop): HopState {
  return h.state ?? (h.addrs?.length ? 'answered' : 'silent');
}

export const hasPlace = (l?: { latitude?: number | null; longitude?: number | null } | null): l is { latitude: number; longitude: number } =>
  !!l && typeof l.latitude === 'number' && typeof l.longitude === 'number';

// placed tells whether an address goes on the map: it has coordinates and
// is not an anycast address whose place means nothing.
export function placed(a?: HopAddr): a is HopAddr & { lat: number; lon: number } {
  return !!a && !!a.located && typeof a.lat === 'number' && typeof a.lon === 'number' && a.placement !== 'anycast_unplaced';
}

// doubtful: the placement contradicts the measured round-trip time.
export const doubtful = (a: HopAddr) => a.placement === 'implausible';

export const placeKey = (a: { lat: number; lon: number }) => `${a.lat.toFixed(2)},${a.lon.toFixed(2)}`;

// whyUnplaced says in a few words why a hop is not on the map.
export function whyUnplaced(h: Hop): string {
  const a = h.addrs?.[0];
  if (!a) return hopState(h) === 'rate_limited' ? 'rate-limited: the router answered too few probes' : 'no answer';
  if (a.placement === 'anycast_unplaced') return 'anycast address: served from many places';
  if (a.special) return `${a.special} address${a.label ? ` (${a.label})` : ''}: not on the public Internet`;
  return 'location unknown';
}

// PlaceNode is one marker: a place and the hops seen there.
export interface PlaceNode { key: string; a: HopAddr & { lat: number; lon: number }; ttls: number[]; rtt: number; doubtful: boolean; anycast: boolean; rateLimited: boolean }
// Step is one line of the path: from one place to the next, dashed when
// hops in between were silent or unplaced, or an end's place is doubtful.
export interface Step { from: string; to: string; dashed: boolean; doubtful: boolean; gap: number[] }

export interface PathModel { nodes: Map<string, PlaceNode>; order: string[]; steps: Step[]; sourceGap: boolean }

// pathModel turns hops (in any order) into places and steps. SOURCE is the
// key of the source marker ('src') when the location is known.
export function pathModel(hops: Hop[], withSource: boolean): PathModel {
  const nodes = new Map<string, PlaceNode>();
  const order: string[] = [];
  const steps: Step[] = [];
  let prev = withSource ? 'src' : '';
  let prevDoubt = false;
  let gap: number[] = [];
  for (const h of [...hops].sort((x, y) => x.ttl - y.ttl)) {
    const a = h.addrs?.[0];
    if (!placed(a)) { gap.push(h.ttl); continue; }
    const key = placeKey(a);
    let n = nodes.get(key);
    if (!n) {
      n = { key, a, ttls: [], rtt: h.stats?.avg_ms ?? 0, doubtful: doubtful(a), anycast: !!a.anycast, rateLimited: false };
      nodes.set(key, n);
    }
    n.ttls.push(h.ttl);
    n.rateLimited ||= hopState(h) === 'rate_limited';
    if (h.stats?.received) n.rtt = Math.min(n.rtt || Infinity, h.stats.avg_ms);
    if (key !== prev) {
      if (prev) steps.push({ from: prev, to: key, dashed: gap.length > 0 || prevDoubt || n.doubtful, doubtful: prevDoubt || n.doubtful, gap });
      order.push(key);
      prev = key;
      prevDoubt = n.doubtful;
    }
    gap = [];
  }
  return { nodes, order, steps, sourceGap: false };
}

// asPath is the ordered list of networks the trace crossed, each once per
// run of consecutive hops.
export function asPath(hops: Hop[]): { asn: number; org: string; ttls: number[] }[] {
  const out: { asn: number; org: string; ttls: number[] }[] = [];
  for (const h of [...hops].sort((x, y) => x.ttl - y.ttl)) {
    const a = h.addrs?.[0];
    if (!a?.asn) continue;
    const last = out[out.length - 1];
    if (last && last.asn === a.asn) last.ttls.push(h.ttl);
    else out.push({ asn: a.asn, org: a.as_org ?? '', ttls: [h.ttl] });
  }
  return out;
}

export interface Verdict { kind: 'ok' | 'fail' | 'running'; text: string }

// verdict is the one line that sums a trace up.
export function verdict(hops: Hop[], status: string, error?: string): Verdict {
  const sorted = [...hops].sort((x, y) => x.ttl - y.ttl);
  const dest = sorted.find((h) => h.reached);
  if (dest) {
    const rtt = dest.stats?.received ? ` ${fmtMs(dest.stats.avg_ms)}` : '';
    return { kind: 'ok', text: `Reached in ${dest.ttl} ${dest.ttl === 1 ? 'hop' : 'hops'},${rtt}` };
  }
  if (status === 'failed') return { kind: 'fail', text: `Trace failed: ${error ?? 'no reason given'}` };
  const last = [...sorted].reverse().find((h) => h.addrs?.length);
  if (status !== 'finished') return { kind: 'running', text: last ? `Last answer so far at hop ${last.ttl}` : 'Waiting for the first hop' };
  if (!last) return { kind: 'fail', text: 'Not reached: no hop answered' };
  return { kind: 'fail', text: `Not reached: last answer at hop ${last.ttl} (${last.addrs![0].addr})` };
}

export const fmtMs = (v: number) => (v < 1 ? `${v.toFixed(2)} ms` : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);
export const num = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

// markerSize encodes latency: 22 px near, up to 34 px at 300 ms and more.
export const markerSize = (rtt: number) => Math.round(22 + Math.min(12, Math.log2(1 + Math.max(0, rtt) / 10) * 2.4));

// ink picks black or white text for a background colour.
export function ink(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.4 ? '#111827' : '#ffffff';
}
