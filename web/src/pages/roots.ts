// The root servers page: which instance of each of the 13 root servers
// answers from a location, over IPv4 and IPv6, with the round trip; the
// letters' operators on the map and lines from the location to each letter
// that answered.
import { getJSON, run } from '../api';
import { badge, field, h, ms, scroller, select } from '../dom';
import type { Location } from '../trace/model';
import { toolPage, val, verdictBox } from './tool';
import type * as Leaflet from 'leaflet';

interface RootServer { letter: string; name: string; operator?: string; ipv4?: string; ipv6?: string; hq?: { city: string; country: string; latitude: number; longitude: number } }
interface Answer { letter: string; family: string; addr: string; instance?: string; nsid?: string; hostname_bind?: string; id_server?: string; rtt_ms?: number; error?: string }

export function roots(root: HTMLElement): void {
  const mapEl = h('div', { class: 'map map-small', role: 'region', 'aria-label': 'Map of the root servers' });
  const locSelect = select('location', []);
  let map: Leaflet.Map | undefined;
  let layer: Leaflet.LayerGroup | undefined;
  let mapMod: typeof import('../map') | undefined;
  let servers: RootServer[] = [];
  let locations: Location[] = [];
  const serversReady = getJSON<{ root_servers: RootServer[] }>('/api/v1/root-servers').then((r) => { servers = r.root_servers ?? []; }).catch(() => {});
  getJSON<{ locations: Location[] }>('/api/v1/locations').then((r) => {
    locations = r.locations ?? [];
    for (const l of locations) {
      const online = (l.status ?? 'online') === 'online';
      locSelect.append(h('option', { value: l.id, disabled: !online }, `${l.name}${online ? '' : ' (offline)'}`));
    }
  }).catch(() => {});

  // draw puts each letter's operator on the map and, once answers come,
  // a line from the location to every letter that answered, labelled with
  // the instance and the round trip.
  const draw = (answers: Answer[], locID?: string) => {
    if (!map || !mapMod) return;
    const L = mapMod.L;
    layer?.remove();
    layer = L.layerGroup().addTo(map);
    const loc = locations.find((l) => l.id === locID);
    const from = loc && loc.latitude != null && loc.longitude != null ? L.latLng(loc.latitude, loc.longitude) : undefined;
    servers.forEach((s, i) => {
      if (!s.hq) return;
      const colour = mapMod!.palette[i % mapMod!.palette.length];
      const got = answers.filter((a) => a.letter === s.letter);
      const text = got.map((a) => `${a.family}: ${a.error ? 'no answer' : `${a.instance ?? '?'} ${ms(a.rtt_ms)}`}`).join('<br>');
      const at = L.latLng(s.hq.latitude, s.hq.longitude);
      L.circleMarker(at, { radius: 7, color: '#fff', weight: 2, fillColor: colour, fillOpacity: 1, className: `root-marker root-${s.letter}` })
        .bindTooltip(`<strong>${s.letter.toUpperCase()}</strong> ${mapMod!.escapeHTML(s.operator ?? '')} (${mapMod!.escapeHTML(s.hq.city)})${text ? `<br>${mapMod!.escapeHTML(text).replace(/&#60;br&#62;/g, '<br>')}` : ''}`)
        .addTo(layer!);
      if (from && got.some((a) => !a.error)) {
        L.polyline(mapMod!.greatCircle(from, at), { color: colour, weight: 1.5, opacity: 0.7, className: `root-line root-line-${s.letter}` }).addTo(layer!);
      }
    });
    if (from) L.circleMarker(from, { radius: 6, color: '#111', weight: 2, fillColor: '#fff', fillOpacity: 1, className: 'location-marker' }).bindTooltip(mapMod.escapeHTML(loc!.name)).addTo(layer);
  };

  toolPage(root, {
    path: '/roots', kind: 'roots', title: 'Root servers', submit: 'Ask the roots',
    intro: 'Which instance of each of the 13 root servers answers from a location, over IPv4 and IPv6, and how fast. The letters are anycast: the answer depends on where you ask from.',
    fields: [field('From', locSelect, 'The location that asks'), field('IP version', select('ip_version', [['', 'IPv4 and IPv6'], ['4', 'IPv4'], ['6', 'IPv6']]))],
    aside: h('div', { class: 'aside-map' }, mapEl),
    run: (f, out) => {
      const seen: Answer[] = [];
      const loc = val(f, 'location') || undefined;
      out.replaceChildren(h('p', { class: 'muted working' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Asking the 13 root servers…'));
      const v = val(f, 'ip_version');
      return run('roots', '.', { ip_version: v ? Number(v) : undefined }, (ev) => {
        if (ev.type !== 'answer') return;
        seen.push(ev.data);
        draw(seen, loc);
      }, loc ? [loc] : undefined).then((m: any) => ({ ...(m.result ?? {}), location: m.locations?.[0] ?? loc }));
    },
    render: async (r, out) => {
      await serversReady;
      const answers: Answer[] = r.answers ?? [];
      draw(answers, r.location);
      const silent = answers.filter((a) => a.error);
      const best = answers.filter((a) => !a.error).sort((a, b) => (a.rtt_ms ?? 0) - (b.rtt_ms ?? 0))[0];
      const verdict = verdictBox(silent.length ? 'warn' : 'ok',
        silent.length ? `${silent.length} of ${answers.length} root server addresses did not answer` : `All ${answers.length} root server addresses answered`,
        best ? `Fastest: ${best.letter.toUpperCase()} over ${best.family} in ${ms(best.rtt_ms)} (${best.instance ?? 'instance unnamed'}).` : undefined);
      const op = (l: string) => servers.find((s) => s.letter === l)?.operator ?? '';
      out.replaceChildren(verdict, scroller(h('table', { class: 'answers roots' },
        h('thead', {}, h('tr', {}, ...['Letter', 'Operator', 'Family', 'Address', 'Instance', 'NSID', 'hostname.bind', 'id.server', 'RTT'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...answers.map((a) => h('tr', { 'data-letter': a.letter, 'data-family': a.family },
          h('td', {}, h('strong', {}, a.letter.toUpperCase())), h('td', {}, op(a.letter)), h('td', {}, a.family), h('td', { class: 'mono' }, a.addr),
          h('td', { class: 'mono' }, a.error ? badge('no answer', 'fail') : a.instance ?? '–'),
          h('td', { class: 'mono' }, a.nsid ?? ''), h('td', { class: 'mono' }, a.hostname_bind ?? ''), h('td', { class: 'mono' }, a.id_server ?? ''),
          h('td', { class: 'num' }, a.error ? '' : ms(a.rtt_ms))))))));
    },
  });
  import('../map').then(async (m) => {
    mapMod = m;
    map = await m.worldMap(mapEl);
    await serversReady;
    draw([]);
  });
}
