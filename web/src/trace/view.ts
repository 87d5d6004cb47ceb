// One trace on the map and in its table. Markers, lines and rows are made
// once and then updated in place as hops arrive, so tooltips, focus and
// hover survive every event.
import { badge, h } from '../dom';
import { escapeHTML, greatCircle, L, nearLng, offsetLine } from '../map';
import {
  asPath, fmtMs, hasPlace, Hop, hopState, ink, Location, markerSize, num, pathModel, PathModel, PlaceNode, Step, verdict, whyUnplaced,
} from './model';

export interface TraceContext {
  map: L.Map;
  asColour: (asn?: number) => string;
  changed: (t: TraceView, grew: boolean) => void;
  toggled: (t: TraceView) => void;
}

const columns: [string, string, string][] = [
  ['c-ttl', '#', 'Hop number (TTL)'], ['c-host', 'Host', ''], ['c-asn', 'Network', ''], ['c-place', 'Place', ''], ['c-loss', 'Loss', ''],
  ['c-sent', 'Sent', 'Probes sent'], ['c-last', 'Last', 'Last round-trip time, ms'], ['c-avg', 'Avg', 'Average round-trip time, ms'],
  ['c-best', 'Best', 'Best round-trip time, ms'], ['c-worst', 'Worst', 'Worst round-trip time, ms'], ['c-jit', 'Jitter', 'Mean difference of consecutive round-trip times, ms'],
];

export class TraceView {
  hops = new Map<number, Hop>();
  layer: L.LayerGroup;
  card: HTMLElement;
  status = 'queued';
  error?: string;
  measurement?: unknown;
  visible = true;
  offsetPx = 0;
  shift = 0;
  started = Date.now();
  duration?: number;
  markers = new Map<string, L.Marker>();
  private lines: { poly: L.Polyline; pts: L.LatLng[]; step: Step }[] = [];
  private pos = new Map<string, L.LatLng>();
  private model: PathModel = { nodes: new Map(), order: [], steps: [], sourceGap: false };
  private rows = new Map<number, HTMLTableRowElement>();
  private body = h('tbody');
  private waiting: HTMLTableRowElement;
  private badgeEl = badge('queued', 'muted');
  private elapsedEl = h('span', { class: 'elapsed num' });
  private verdictEl = h('p', { class: 'trace-verdict', 'data-kind': 'running', role: 'status' }, 'Waiting for the first hop');
  private source?: L.Marker;
  private toggle: HTMLInputElement;

  // name tells the trace apart on the page: its location, numbered when
  // several traces come from the same one.
  constructor(public id: string, public loc: Location | undefined, public colour: string, public target: string, private ctx: TraceContext, public name = loc?.name ?? 'this server') {
    this.layer = L.layerGroup().addTo(ctx.map);
    const from = name;
    this.toggle = h('input', { type: 'checkbox', checked: true, class: 'trace-toggle', 'data-measurement': id });
    this.toggle.addEventListener('change', () => this.setVisible(this.toggle.checked));
    this.waiting = h('tr', { class: 'waiting' }, h('td', { class: 'num' }, '1'), h('td', { colspan: columns.length - 1 }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' waiting for an answer…'));
    this.card = h('section', { class: 'trace-card', 'data-measurement': id, style: `--trace:${colour}` },
      h('div', { class: 'trace-head' },
        h('span', { class: 'swatch', 'aria-hidden': 'true' }),
        h('h2', {}, this.target, h('span', { class: 'muted' }, ` from ${from}`)),
        this.badgeEl, this.elapsedEl,
        h('label', { class: 'check show-toggle' }, this.toggle, ' On map')),
      this.verdictEl,
      h('div', { class: 'table-wrap' }, h('table', { class: 'hops' },
        h('caption', { class: 'sr-only' }, `Hops to ${this.target} from ${from}`),
        h('colgroup', {}, ...columns.map(([c]) => h('col', { class: c }))),
        h('thead', {}, h('tr', {}, ...columns.map(([c, t, title]) => h('th', { scope: 'col', class: c, title: title || undefined }, t)))),
        this.body)));
    this.body.append(this.waiting);
    if (hasPlace(loc)) {
      const ll = L.latLng(loc.latitude, loc.longitude);
      this.pos.set('src', ll);
      this.source = L.marker(ll, {
        icon: L.divIcon({ className: 'source-marker', html: `<span style="background:${colour}"></span><em>${escapeHTML(loc.name)}</em>`, iconSize: [20, 20] }),
        keyboard: false, title: `Source: ${loc.name}`,
      }).addTo(this.layer);
    }
  }


  setStatus(s: string, error?: string) {
    this.status = s;
    this.error = error;
    this.badgeEl.textContent = s;
    this.badgeEl.className = `badge ${s === 'finished' ? 'ok' : s === 'failed' ? 'fail' : 'muted'}`;
    this.refreshVerdict();
  }

  // rounds is the number of mtr rounds asked for (0 for a plain trace).
  rounds = 0;

  tick() {
    const ms = this.duration ?? Date.now() - this.started;
    const done = Math.max(0, ...[...this.hops.values()].map((x) => x.stats?.sent ?? 0));
    const round = this.rounds ? ` · round ${Math.min(done, this.rounds)} of ${this.rounds}` : '';
    this.elapsedEl.textContent = (ms < 60000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`) + round;
    this.elapsedEl.title = this.duration === undefined ? 'Elapsed time' : 'Duration of the trace';
  }

  upsert(hop: Hop) {
    const before = this.model.order.length;
    this.hops.set(hop.ttl, hop);
    this.renderRow(hop);
    this.model = pathModel([...this.hops.values()], this.pos.has('src'));
    this.place();
    this.refreshVerdict();
    this.ctx.changed(this, this.model.order.length !== before);
  }

  finish(result: { hops?: Hop[]; duration_ms?: number } | undefined, status: string, error?: string) {
    for (const hop of result?.hops ?? []) this.upsert(hop);
    this.duration = result?.duration_ms;
    this.setStatus(status, error);
    this.tick();
  }

  private refreshVerdict() {
    const v = verdict([...this.hops.values()], this.status, this.error);
    this.verdictEl.textContent = v.text;
    this.verdictEl.dataset.kind = v.kind;
    // The hop waited for is the first one not heard from yet: probes go
    // out in parallel, so later hops may answer before a silent one.
    const running = this.status === 'running' || this.status === 'queued';
    const reached = Math.min(...[...this.hops.values()].filter((x) => x.reached).map((x) => x.ttl));
    let next = 1;
    while (this.hops.has(next)) next++;
    this.waiting.hidden = !running || next >= reached;
    if (!this.waiting.hidden) {
      this.waiting.dataset.ttl = String(next);
      (this.waiting.firstChild as HTMLElement).textContent = String(next);
      const after = this.rows.get(next - 1);
      if (after) after.after(this.waiting); else this.body.prepend(this.waiting);
    }
  }

  private renderRow(hop: Hop) {
    const a = hop.addrs?.[0];
    const state = hopState(hop);
    const s = hop.stats;
    const got = !!s?.received;
    const rate = state === 'rate_limited';
    const cells = [
      h('td', { class: 'num c-ttl' }, hop.ttl),
      h('td', { class: 'c-host' },
        a ? h('span', { class: 'mono addr' }, a.addr) : h('span', { class: 'muted' }, rate ? 'rate-limited' : '* no answer'),
        hop.addrs && hop.addrs.length > 1 ? h('small', { title: hop.addrs.slice(1).map((x) => x.addr).join(' ') }, ` +${hop.addrs.length - 1}`) : null,
        a?.name ? h('small', { class: 'rname' }, a.name) : null,
        h('small', { class: 'place-inline' }, this.placeText(hop))),
      h('td', { class: 'c-asn' }, a?.asn ? h('span', { class: 'as', title: a.as_org ?? '' },
        h('i', { class: 'as-dot', style: `background:${this.ctx.asColour(a.asn)}`, 'aria-hidden': 'true' }), `AS${a.asn}`, a.as_org ? h('small', {}, a.as_org) : null) : ''),
      h('td', { class: 'c-place' }, this.placeCell(hop)),
      h('td', { class: `num c-loss${rate ? ' rate' : ''}`, title: rate ? 'This router limits its answers: missing replies here are not packet loss' : undefined },
        s?.sent ? `${Math.round(s.loss_pct)}%${rate ? '*' : ''}` : '–'),
      h('td', { class: 'num c-sent' }, s?.sent ?? '–'),
      h('td', { class: 'num c-last' }, got && s!.last_ms !== undefined ? num(s!.last_ms) : '–'),
      h('td', { class: 'num c-avg' }, got ? num(s!.avg_ms) : '–'),
      h('td', { class: 'num c-best' }, got ? num(s!.best_ms) : '–'),
      h('td', { class: 'num c-worst' }, got ? num(s!.worst_ms) : '–'),
      h('td', { class: 'num c-jit' }, got && s!.jitter_ms !== undefined ? num(s!.jitter_ms) : '–'),
    ];
    let row = this.rows.get(hop.ttl);
    if (!row) {
      row = h('tr', { 'data-ttl': hop.ttl, tabindex: '0' });
      this.wireRow(row, hop.ttl);
      const after = [...this.rows.keys()].filter((t) => t < hop.ttl).sort((x, y) => y - x)[0];
      if (after === undefined) this.body.prepend(row); else this.rows.get(after)!.after(row);
      this.rows.set(hop.ttl, row);
    }
    const placedHere = !!a?.located && a.placement !== 'anycast_unplaced' && typeof a.lat === 'number';
    row.className = [placedHere ? 'located' : 'unlocated', state, a?.placement === 'implausible' ? 'doubtful' : '', hop.reached ? 'reached' : ''].filter(Boolean).join(' ');
    row.setAttribute('aria-label', `Hop ${hop.ttl}${a ? `, ${a.addr}` : ', no answer'}`);
    row.replaceChildren(...cells);
  }

  private placeText(hop: Hop): string {
    const a = hop.addrs?.[0];
    return a?.located && typeof a.lat === 'number' && a.placement !== 'anycast_unplaced' ? [a.city, a.country].filter(Boolean).join(', ') || 'located' : whyUnplaced(hop);
  }

  private placeCell(hop: Hop): (HTMLElement | string)[] {
    const a = hop.addrs?.[0];
    const text = this.placeText(hop);
    const out: (HTMLElement | string)[] = [a?.located && a.placement !== 'anycast_unplaced' ? text : h('span', { class: 'muted' }, text)];
    if (a?.placement === 'implausible') {
      out.push(' ', h('span', { class: 'badge warn', title: `The round-trip time puts this router within ${a.bound_km ? `${Math.round(a.bound_km)} km` : 'a shorter distance'} of the source; the database's place is farther.` }, 'doubtful'));
    }
    if (a?.anycast) out.push(' ', h('span', { class: 'badge muted', title: 'Anycast: the same address is served from many places' }, 'anycast'));
    return out;
  }

  private wireRow(row: HTMLTableRowElement, ttl: number) {
    const on = () => this.highlight(ttl, true);
    const off = () => this.highlight(ttl, false);
    row.addEventListener('mouseenter', on);
    row.addEventListener('mouseleave', off);
    row.addEventListener('focus', on);
    row.addEventListener('blur', off);
    row.addEventListener('keydown', (e) => {
      const m = this.markerOf(ttl);
      if (e.key === 'Enter' && m) { this.ctx.map.panTo(m.getLatLng()); m.openTooltip(); }
      if (e.key === 'ArrowDown') { e.preventDefault(); (row.nextElementSibling as HTMLElement | null)?.focus(); }
      if (e.key === 'ArrowUp') { e.preventDefault(); (row.previousElementSibling as HTMLElement | null)?.focus(); }
    });
  }

  private markerOf(ttl: number): L.Marker | undefined {
    for (const n of this.model.nodes.values()) if (n.ttls.includes(ttl)) return this.markers.get(n.key);
    return undefined;
  }

  highlight(ttl: number, on: boolean) {
    this.rows.get(ttl)?.classList.toggle('hl', on);
    const el = this.markerOf(ttl)?.getElement();
    el?.classList.toggle('hl', on);
    if (el) el.style.zIndex = on ? '10000' : '';
  }

  // place computes the continuous positions (one world copy) of the
  // source and every place, then updates markers and lines in place.
  private place() {
    const raw = (n: PlaceNode) => L.latLng(n.a.lat, n.a.lon);
    const pos = new Map<string, L.LatLng>();
    if (this.pos.has('src')) pos.set('src', L.latLng(this.loc!.latitude!, this.loc!.longitude!));
    const lines: L.LatLng[][] = [];
    for (const key of this.model.order) if (!pos.size) pos.set(key, raw(this.model.nodes.get(key)!));
    for (const st of this.model.steps) {
      const from = pos.get(st.from)!;
      const known = pos.get(st.to);
      const to = known ?? raw(this.model.nodes.get(st.to)!);
      const pts = greatCircle(from, L.latLng(to.lat, known ? to.lng : nearLng(to.lng, from.lng)));
      if (!known) pos.set(st.to, pts[pts.length - 1]);
      lines.push(pts);
    }
    this.pos = pos;
    this.positions = pos;
    this.linePts = lines;
    this.applyShift();
  }

  private positions = new Map<string, L.LatLng>();
  private linePts: L.LatLng[][] = [];

  // span is the trace's longitude range before any shift.
  span(): [number, number] | null {
    const lngs = [...this.positions.values()].map((p) => p.lng);
    return lngs.length ? [Math.min(...lngs), Math.max(...lngs)] : null;
  }

  // setShift moves the whole trace by whole turns (near the other traces).
  setShift(shift: number) {
    if (shift === this.shift) return;
    this.shift = shift;
    this.applyShift();
  }

  private at(p: L.LatLng): L.LatLng { return L.latLng(p.lat, p.lng + this.shift); }

  applyShift() {
    const map = this.ctx.map;
    if (this.source) this.source.setLatLng(this.at(this.positions.get('src')!));
    // Lines: one polyline per step, reused.
    this.model.steps.forEach((st, i) => {
      const pts = this.linePts[i].map((p) => this.at(p));
      const style: L.PolylineOptions = {
        color: this.colour, weight: st.doubtful ? 2 : 3, opacity: st.doubtful ? 0.55 : 0.9,
        dashArray: st.doubtful ? '2 7' : st.dashed ? '7 7' : undefined, lineCap: 'round', interactive: false,
        className: `hop-line${st.dashed ? ' dashed' : ''}${st.doubtful ? ' doubtful' : ''}`,
      };
      let l = this.lines[i];
      if (!l) {
        l = { poly: L.polyline(offsetLine(map, pts, this.offsetPx), style).addTo(this.layer), pts, step: st };
        this.lines[i] = l;
      } else {
        l.pts = pts;
        l.step = st;
        l.poly.setLatLngs(offsetLine(map, pts, this.offsetPx));
        l.poly.setStyle(style);
        const el = l.poly.getElement();
        if (el) el.setAttribute('class', `${style.className} leaflet-interactive`);
      }
      l.poly.getElement()?.setAttribute('data-step', `${st.from}>${st.to}`);
    });
    for (const l of this.lines.splice(this.model.steps.length)) this.layer.removeLayer(l.poly);
    // Markers: one per place, reused.
    for (const n of this.model.nodes.values()) this.upsertMarker(n);
    for (const [key, m] of this.markers) if (!this.model.nodes.has(key)) { this.layer.removeLayer(m); this.markers.delete(key); }
  }

  reoffset() {
    for (const l of this.lines) l.poly.setLatLngs(offsetLine(this.ctx.map, l.pts, this.offsetPx));
  }

  markerDx = new Map<string, number>();
  // unlabelled: places where another trace's marker carries the label.
  unlabelled = new Set<string>();

  private upsertMarker(n: PlaceNode) {
    const ll = this.at(this.positions.get(n.key)!);
    const size = markerSize(n.rtt);
    const fill = this.ctx.asColour(n.a.asn);
    const cls = ['hop-marker', `ttl-${n.ttls.join('-')}`, n.doubtful ? 'doubtful' : '', n.anycast ? 'anycast' : '', n.rateLimited ? 'rate-limited' : '', this.unlabelled.has(n.key) ? 'no-label' : ''].filter(Boolean).join(' ');
    const city = [n.a.city, n.a.country].filter(Boolean).join(', ');
    const labelText = `${n.a.city || n.a.country || n.a.addr}${n.rtt ? ` · ${fmtMs(n.rtt)}` : ''}`;
    const numText = n.ttls.length > 2 ? `${n.ttls[0]}–${n.ttls[n.ttls.length - 1]}` : n.ttls.join('·');
    const dx = this.markerDx.get(n.key) ?? 0;
    let m = this.markers.get(n.key);
    if (!m) {
      m = L.marker(ll, { icon: L.divIcon({ className: cls, html: '<b></b><em></em>', iconSize: [size, size] }), keyboard: false, riseOnHover: true });
      m.bindTooltip('', { direction: 'top', offset: [0, -size / 2] });
      m.on('mouseover', () => n.ttls.forEach((t) => this.rows.get(t)?.classList.add('hl')));
      m.on('mouseout', () => this.rows.forEach((r) => r.classList.remove('hl')));
      // A tap or click shows the hop's card on the map and marks its rows;
      // the page does not scroll away from the map.
      m.on('click', () => {
        const node = this.model.nodes.get(n.key);
        this.rows.forEach((r) => r.classList.remove('hl'));
        node?.ttls.forEach((t) => this.rows.get(t)?.classList.add('hl'));
        m!.openTooltip();
      });
      m.addTo(this.layer);
      this.markers.set(n.key, m);
    } else if (!m.getLatLng().equals(ll)) {
      m.setLatLng(ll);
    }
    const el = m.getElement();
    if (el) {
      el.className = `${cls} leaflet-marker-icon leaflet-zoom-animated leaflet-interactive`;
      el.style.width = el.style.height = `${size}px`;
      el.style.marginLeft = `${-size / 2 + dx}px`;
      el.style.marginTop = `${-size / 2}px`;
      el.style.setProperty('--fill', n.doubtful ? '#fff' : fill);
      el.style.setProperty('--ring', fill);
      el.style.setProperty('--ink', n.doubtful ? '#111827' : ink(fill));
      el.style.setProperty('--trace', this.colour);
      el.dataset.ttls = n.ttls.join(',');
      el.querySelector('b')!.textContent = numText;
      el.querySelector('em')!.textContent = labelText;
      el.dataset.key = n.key;
      el.setAttribute('aria-hidden', 'true');
    }
    const notes = [n.doubtful ? `Placement doubtful${n.a.bound_km ? `: the round-trip time allows at most ${Math.round(n.a.bound_km)} km from the source` : ''}` : '',
      n.anycast ? 'Anycast address' : '', n.rateLimited ? 'Router limits its replies' : ''].filter(Boolean);
    m.setTooltipContent(`<strong>${n.ttls.length > 1 ? 'Hops' : 'Hop'} ${n.ttls.join(', ')}</strong> · ${escapeHTML(city || 'located')}<br>` +
      `${n.a.asn ? `AS${n.a.asn} ${escapeHTML(n.a.as_org ?? '')}<br>` : ''}<span class="mono">${escapeHTML(n.a.addr)}</span>${n.rtt ? ` · ${fmtMs(n.rtt)}` : ''}` +
      (notes.length ? `<br><em>${escapeHTML(notes.join('; '))}</em>` : ''));
  }

  // points are the trace's places as drawn, for fitting the view.
  points(): L.LatLng[] {
    return [...this.positions.values(), ...this.linePts.flat()].map((p) => this.at(p));
  }

  keys(): string[] { return [...this.model.nodes.keys()]; }

  asPath() { return asPath([...this.hops.values()]); }

  setVisible(on: boolean) {
    this.visible = on;
    this.toggle.checked = on;
    this.card.classList.toggle('hidden-trace', !on);
    if (on) this.layer.addTo(this.ctx.map); else this.layer.remove();
    this.ctx.toggled(this);
  }

  remove() { this.layer.remove(); this.card.remove(); }
}
