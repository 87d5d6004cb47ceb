// The visual traceroute: traces from one or more locations drawn live on
// the world map (numbered markers coloured by network, sized by latency,
// dashed where hops stayed silent), an AS-path strip, a verdict per trace,
// per-trace toggles and mtr-style rounds.
import { APIError, getJSON, Measurement, postMeasurement, stream } from '../api';
import { checkbox, download, field, h, input, select, showError } from '../dom';
import { asPalette, L, palette, worldMap } from '../map';
import { applyLimits } from '../kinds';
import { shell } from '../shell';
import { hasPlace, Hop, Location } from '../trace/model';
import { TraceView } from '../trace/view';
import { redirectForKind } from './tool';

const hostRE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
const ipv4RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function validTarget(v: string): string | null {
  const t = v.trim().replace(/^\[|\]$/g, '');
  if (!t) return 'Enter a host name or an IP address.';
  if (/[/:]/.test(t) && !t.includes(':')) return 'Enter a host name or IP address, not a URL.';
  if (t.includes('://')) return 'Enter a host name or IP address, not a URL.';
  if (t.includes(':')) return /^[0-9a-f:.]+$/i.test(t) && t.split('::').length <= 2 ? null : 'That is not a valid IPv6 address.';
  if (/^[\d.]+$/.test(t)) return ipv4RE.test(t) ? null : 'That is not a valid IPv4 address.';
  return hostRE.test(t) ? null : 'That is not a valid host name (letters, digits, hyphens and dots).';
}

interface Form {
  form: HTMLFormElement; target: HTMLInputElement; locBox: HTMLElement; protocol: HTMLSelectElement; port: HTMLInputElement; maxHops: HTMLInputElement;
  queries: HTMLInputElement; timeout: HTMLInputElement; mtr: HTMLInputElement; rounds: HTMLInputElement; noDNS: HTMLInputElement; submit: HTMLButtonElement;
}

function buildForm(): Form {
  const target = input('target', { placeholder: 'example.com or 2001:db8::1', required: true, 'aria-describedby': 'f-target-hint', inputmode: 'url' });
  const protocol = select('protocol', [['icmp', 'ICMP'], ['udp', 'UDP'], ['tcp', 'TCP']], 'icmp');
  const port = input('port', { type: 'number', min: 1, max: 65535, placeholder: 'auto' });
  const maxHops = input('max_hops', { type: 'number', min: 1, max: 64, value: 30 });
  const queries = input('queries', { type: 'number', min: 1, max: 5, value: 3 });
  const timeout = input('timeout_ms', { type: 'number', min: 1, max: 5000, placeholder: 'auto' });
  const rounds = input('rounds', { type: 'number', min: 2, max: 100, value: 10 });
  const mtrBox = checkbox('mtr', 'Repeat in rounds (mtr)');
  const dnsBox = checkbox('no_dns', 'Skip reverse DNS names');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Trace');
  const locBox = h('fieldset', { class: 'locations' }, h('legend', {}, 'Trace from'));
  const form = h('form', { class: 'tool-form trace-form', novalidate: true },
    h('div', { class: 'trace-row' }, field('Target', target, 'A host name or an IP address'), h('div', { class: 'go' }, submit)),
    locBox,
    h('details', { class: 'options' }, h('summary', {}, 'Options'),
      h('div', { class: 'row' }, field('Protocol', protocol), field('Port', port), field('Max hops', maxHops), field('Probes per hop', queries),
        field('Timeout (ms)', timeout), field('Rounds', rounds, 'with mtr')),
      h('div', { class: 'row' }, mtrBox, dnsBox)));
  return {
    form, target, locBox, protocol, port, maxHops, queries, timeout, rounds, submit,
    mtr: mtrBox.querySelector('input')!, noDNS: dnsBox.querySelector('input')!,
  };
}

function options(f: Form): Record<string, unknown> {
  const o: Record<string, unknown> = { protocol: f.protocol.value, max_hops: Number(f.maxHops.value) || 0 };
  if (f.port.value) o.port = Number(f.port.value);
  if (f.timeout.value) o.timeout_ms = Number(f.timeout.value);
  if (f.noDNS.checked) o.no_dns = true;
  if (f.mtr.checked) o.rounds = Number(f.rounds.value) || 10;
  else o.queries = Number(f.queries.value) || 0;
  return o;
}

// restore puts a stored measurement's target, options and locations back
// into the form.
function restore(f: Form, ms: Measurement[]) {
  const m = ms[0];
  const o = (m.options ?? {}) as Record<string, any>;
  f.target.value = m.target;
  f.protocol.value = o.protocol || 'icmp';
  f.port.value = o.port ? String(o.port) : '';
  f.maxHops.value = String(o.max_hops || 30);
  f.queries.value = String(o.queries || 3);
  f.timeout.value = o.timeout_ms ? String(o.timeout_ms) : '';
  f.noDNS.checked = !!o.no_dns;
  f.mtr.checked = !!o.rounds;
  if (o.rounds) f.rounds.value = String(o.rounds);
  const ids = new Set(ms.flatMap((x) => x.locations ?? []));
  if (ids.size) f.locBox.querySelectorAll<HTMLInputElement>('input[name=location]').forEach((c) => { c.checked = ids.has(c.value); });
}

export async function visualtrace(root: HTMLElement): Promise<void> {
  const f = buildForm();
  const errors = h('div', { class: 'errors', 'aria-live': 'polite' });
  const permalink = h('a', { class: 'permalink', href: '#', hidden: true }, 'Permalink');
  const exportBtn = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Export JSON');
  const fitBtn = h('button', { type: 'button', class: 'secondary fit-btn', hidden: true }, 'Fit the route');
  const mapEl = h('div', { class: 'map trace-map', id: 'map', role: 'region', 'aria-label': 'Map of the hops' });
  const toggles = h('div', { class: 'trace-toggles', hidden: true });
  const strip = h('div', { class: 'as-strip', 'aria-label': 'Networks crossed, in order' });
  const asLegend = h('div', { class: 'as-legend' });
  const traces = h('div', { class: 'traces' });
  const item = (cls: string, text: string, sym = '') => h('span', { class: 'lg-item' }, h('span', { class: `lg ${cls}`, 'aria-hidden': 'true' }, sym), text);
  const legend = h('div', { class: 'map-legend' },
    item('lg-src', 'source'), item('lg-hop', 'hop number; colour: network; size: round-trip time', '3'), item('lg-line', 'path'),
    item('lg-dash', 'across silent or unplaced hops'), item('lg-doubt', 'place doubtful'), item('lg-any', 'anycast'), item('lg-rl', 'rate-limited'));
  root.replaceChildren(shell('/visualtrace', 'Visual traceroute', 'Trace the route to a host from one or more locations and watch each hop land on the map, with its network and city.',
    h('div', { class: 'vt-top' },
      h('div', { class: 'vt-side' }, f.form, errors, h('div', { class: 'vt-actions' }, permalink, exportBtn, fitBtn), toggles),
      h('div', { class: 'vt-map' }, mapEl, legend)),
    asLegend, strip, traces));

  void applyLimits(f.form, 'trace');
  const map = await worldMap(mapEl);
  let locations: Location[] = [];
  try {
    locations = (await getJSON<{ locations: Location[] }>('/api/v1/locations')).locations ?? [];
  } catch (e) { showError(errors, e); }
  // Offline locations (no agent to run them) are shown, not offered.
  const firstOnline = locations.findIndex((l) => (l.status ?? 'online') === 'online');
  locations.forEach((l, i) => {
    const online = (l.status ?? 'online') === 'online';
    f.locBox.append(h('label', { class: `loc-chip${online ? '' : ' offline'}`, style: `--c:${palette[i % palette.length]}`, title: online ? undefined : l.reason ?? 'offline' },
      h('input', { type: 'checkbox', name: 'location', value: l.id, checked: i === firstOnline, disabled: !online }), h('span', { class: 'dot', 'aria-hidden': 'true' }),
      l.name, l.provider && l.provider !== 'self' ? h('small', {}, ` ${l.provider}`) : null, online ? null : h('small', { class: 'offline-note' }, ' offline')));
  });
  if (locations.length <= 1) f.locBox.hidden = true;
  // A trace takes its location's colour, or the next free one when
  // another trace on the page already has it.
  const colourOf = (id?: string) => {
    const own = palette[Math.max(0, locations.findIndex((l) => l.id === id)) % palette.length];
    const used = new Set(current.map((t) => t.colour));
    return used.has(own) ? palette.find((c) => !used.has(c)) ?? own : own;
  };

  // Network colours: one per AS in order of first appearance.
  const asColours = new Map<number, string>();
  const asNames = new Map<number, string>();
  const asColour = (asn?: number) => {
    if (!asn) return '#9aa5b4';
    let c = asColours.get(asn);
    if (!c) { c = asPalette[asColours.size % asPalette.length]; asColours.set(asn, c); }
    return c;
  };

  let current: TraceView[] = [];
  // The view fits the route until the user moves the map, then never again.
  let userMoved = false;
  let programmatic = false;
  const quietly = (fn: () => void) => { programmatic = true; try { fn(); } finally { programmatic = false; } };
  map.on('zoomstart movestart', () => { if (!programmatic) { userMoved = true; fitBtn.hidden = false; } });
  const bounds = () => {
    const pts = current.filter((t) => t.visible).flatMap((t) => t.points());
    return pts.length ? L.latLngBounds(pts) : null;
  };
  const fit = (force = false) => {
    const b = bounds();
    if (!b || (userMoved && !force)) return;
    const wide = mapEl.clientWidth > 600;
    quietly(() => map.fitBounds(b, { paddingTopLeft: [30, 30], paddingBottomRight: [wide ? 150 : 30, 30], maxZoom: 6, animate: false }));
    mapEl.dataset.fits = String(Number(mapEl.dataset.fits ?? 0) + 1);
  };
  fitBtn.addEventListener('click', () => { userMoved = false; fitBtn.hidden = true; fit(true); });
  new ResizeObserver(() => { quietly(() => map.invalidateSize({ pan: false })); fit(); }).observe(mapEl);
  map.on('zoomend', () => current.forEach((t) => t.reoffset()));
  map.on('moveend', () => { mapEl.dataset.view = `${map.getZoom()} ${map.getCenter().lat.toFixed(1)},${map.getCenter().lng.toFixed(1)}`; });

  // layout keeps the traces in one world copy, side by side where their
  // paths overlap, and redraws the AS legend and strip.
  const layout = () => {
    const vis = current.filter((t) => t.visible);
    let ref: number | null = null;
    for (const t of vis) {
      const s = t.span();
      if (!s) continue;
      const centre = (s[0] + s[1]) / 2;
      if (ref === null) ref = centre - 360 * Math.round(centre / 360);
      t.setShift(360 * Math.round((ref - centre) / 360));
    }
    vis.forEach((t, i) => {
      const off = vis.length > 1 ? (i - (vis.length - 1) / 2) * 5 : 0;
      if (off !== t.offsetPx) { t.offsetPx = off; t.reoffset(); }
    });
    const holders = new Map<string, TraceView[]>();
    for (const t of vis) for (const k of t.keys()) holders.set(k, [...(holders.get(k) ?? []), t]);
    let moved = false;
    for (const t of current) {
      for (const k of t.keys()) {
        const list = holders.get(k) ?? [t];
        const dx = list.length > 1 ? (list.indexOf(t) - (list.length - 1) / 2) * 18 : 0;
        if ((t.markerDx.get(k) ?? 0) !== dx) { t.markerDx.set(k, dx); moved = true; }
        const quiet = list.indexOf(t) < list.length - 1;
        if (t.unlabelled.has(k) !== quiet) { if (quiet) t.unlabelled.add(k); else t.unlabelled.delete(k); moved = true; }
      }
      if (moved) t.applyShift();
      moved = false;
    }
    drawNetworks();
  };

  const drawNetworks = () => {
    const seen: number[] = [];
    strip.replaceChildren();
    for (const t of current.filter((x) => x.visible)) {
      const path = t.asPath();
      if (!path.length) continue;
      strip.append(h('div', { class: 'as-path', style: `--trace:${t.colour}`, 'data-measurement': t.id },
        h('span', { class: 'as-from' }, h('i', { class: 'swatch', 'aria-hidden': 'true' }), t.name),
        ...path.flatMap((p, i) => {
          if (!seen.includes(p.asn)) seen.push(p.asn);
          if (p.org) asNames.set(p.asn, p.org);
          return [i ? h('span', { class: 'as-arrow', 'aria-hidden': 'true' }, '→') : null,
            h('span', { class: 'as-chip', 'data-asn': p.asn, title: `Hops ${p.ttls.join(', ')}` },
              h('i', { class: 'as-dot', style: `background:${asColour(p.asn)}`, 'aria-hidden': 'true' }), h('strong', {}, `AS${p.asn}`), p.org ? ` ${p.org}` : '')];
        })));
    }
    asLegend.replaceChildren(...(seen.length ? [h('span', { class: 'muted' }, 'Networks:')] : []),
      ...seen.map((asn) => h('span', { class: 'as-key', 'data-asn': asn }, h('i', { class: 'as-dot', style: `background:${asColour(asn)}`, 'aria-hidden': 'true' }), `AS${asn}`, asNames.get(asn) ? ` ${asNames.get(asn)}` : '')));
  };

  const drawToggles = () => {
    toggles.hidden = current.length < 2;
    toggles.replaceChildren(...current.map((t) => {
      const b = h('button', { type: 'button', class: 'trace-chip', 'aria-pressed': String(t.visible), 'data-measurement': t.id, style: `--trace:${t.colour}` },
        h('i', { class: 'swatch', 'aria-hidden': 'true' }), t.name);
      b.addEventListener('click', () => t.setVisible(!t.visible));
      return b;
    }));
  };

  const ctx = {
    map,
    asColour,
    changed: (t: TraceView, grew: boolean) => {
      layout();
      if (!grew || !t.visible) return;
      const b = bounds();
      if (b && !map.getBounds().contains(b)) fit();
    },
    toggled: () => { layout(); drawToggles(); },
  };

  const reset = () => {
    current.forEach((t) => t.remove());
    current = [];
    asColours.clear();
    userMoved = false;
    fitBtn.hidden = true;
    drawToggles();
    drawNetworks();
  };
  const ticker = setInterval(() => {
    if (!root.isConnected) { clearInterval(ticker); return; }
    current.forEach((t) => { if (t.duration === undefined && (t.status === 'running' || t.status === 'queued')) t.tick(); });
  }, 200);

  const start = (ms: Measurement[]) => {
    permalink.href = `/visualtrace?m=${ms.map((m) => m.id).join(',')}`;
    permalink.hidden = false;
    exportBtn.hidden = false;
    history.replaceState(null, '', permalink.href);
    ms.forEach((m) => {
      const loc = locations.find((l) => l.id === m.locations?.[0]);
      const base = loc?.name ?? 'This server';
      const same = current.filter((x) => (x.loc?.name ?? 'This server') === base).length;
      const t = new TraceView(m.id, loc && hasPlace(loc) ? loc : loc ? { ...loc, latitude: null, longitude: null } : undefined, colourOf(loc?.id), m.target, ctx,
        same ? `${base} (${same + 1})` : base);
      if (m.created_at) t.started = Date.parse(m.created_at) || t.started;
      t.rounds = Number((m.options as { rounds?: number } | undefined)?.rounds) || 0;
      current.push(t);
      traces.append(t.card);
      t.setStatus(m.status);
      t.tick();
      if (m.status === 'finished' || m.status === 'failed') {
        t.measurement = m;
        t.finish(m.result, m.status, m.error);
        fit();
        return;
      }
      stream(m.id, (ev) => {
        if (ev.type === 'status' && ev.data?.status) t.setStatus(ev.data.status);
        if (ev.type === 'hop') { if (t.status !== 'running') t.setStatus('running'); t.upsert(ev.data as Hop); }
      }).then((done) => {
        t.measurement = done;
        t.finish(done.result, done.status, done.error);
        fit();
      }, (e) => showError(errors, e));
    });
    drawToggles();
  };

  f.form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errors.replaceChildren();
    const bad = validTarget(f.target.value);
    f.target.setAttribute('aria-invalid', String(!!bad));
    if (bad) { errors.append(h('div', { class: 'alert error', role: 'alert' }, bad)); f.target.focus(); return; }
    const chosen = locations.length ? [...f.locBox.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => c.value) : [undefined];
    if (!chosen.length) { errors.append(h('div', { class: 'alert error', role: 'alert' }, 'Pick at least one location to trace from.')); return; }
    f.submit.disabled = true;
    try {
      const target = f.target.value.trim();
      const ms = await Promise.all(chosen.map((l) => postMeasurement({ type: 'trace', target, options: options(f), locations: l ? [l] : undefined })));
      reset();
      start(ms);
      // On a narrow screen the map is below the form: bring it into view.
      if (window.innerWidth < 1000) mapEl.scrollIntoView({ block: 'start', behavior: 'smooth' });
    } catch (err) {
      showError(errors, err, f.form);
      if (err instanceof APIError && err.problem.errors?.some((e) => e.field === 'options.rounds')) {
        errors.append(h('p', { class: 'alert warn' }, 'This server does not run traces in rounds; untick “Repeat in rounds (mtr)” to trace once.'));
        f.mtr.setAttribute('aria-invalid', 'true');
      }
    } finally {
      f.submit.disabled = false;
    }
  });
  exportBtn.addEventListener('click', () => download(`trace-${current.map((t) => t.id).join('-')}.json`, current.map((t) => t.measurement ?? { id: t.id, hops: [...t.hops.values()] })));

  const q = new URLSearchParams(location.search);
  if (q.get('target')) f.target.value = q.get('target')!;
  if (q.get('protocol')) f.protocol.value = q.get('protocol')!;
  if (q.get('port')) { f.port.value = q.get('port')!; f.form.querySelector('details')!.open = true; }
  const ids = (q.get('m') ?? '').split(',').filter(Boolean).slice(0, 8);
  if (ids.length) {
    try {
      const ms = await Promise.all(ids.map((id) => getJSON<Measurement>(`/api/v1/measurements/${encodeURIComponent(id)}`)));
      if (redirectForKind(ms[0], 'trace')) return;
      restore(f, ms);
      start(ms);
    } catch (err) { showError(errors, err); }
  }
}
