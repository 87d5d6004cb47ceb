// The world map: Natural Earth country outlines drawn offline (no tile
// server) in three world copies, so a path drawn with continuous longitudes
// across the antimeridian always has land under it; an optional raster tile
// layer from the server's configuration; and the data credits folded into an
// (i) button. Loaded only by the pages that draw a map.
import * as L from 'leaflet';
import { getJSON } from './api';

export { L };

export interface UIConfig { version: string; tile_url?: string; tile_attribution?: string }
interface Attribution { text: string; url?: string; html?: string }

let uiConfig: Promise<UIConfig> | undefined;
export function config(): Promise<UIConfig> {
  uiConfig ??= getJSON<UIConfig>('/api/v1/ui-config').catch(() => ({ version: '' }));
  return uiConfig;
}

let countries: Promise<GeoJSON.FeatureCollection> | undefined;
let styles: Promise<void> | undefined;

export function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// mapStyles loads the map's style sheet (Leaflet's and ours) once; the
// pages without a map never fetch it.
function mapStyles(): Promise<void> {
  styles ??= new Promise((resolve) => {
    const href = document.querySelector<HTMLMetaElement>('meta[name="dnsscience-map-css"]')?.content ?? '/ui/map.css';
    const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href });
    link.onload = link.onerror = () => resolve();
    document.head.append(link);
  });
  return styles;
}

export async function worldMap(el: HTMLElement): Promise<L.Map> {
  await mapStyles();
  const map = L.map(el, {
    worldCopyJump: false, minZoom: 0, maxZoom: 12, zoomSnap: 0.25, zoomDelta: 0.5, attributionControl: false,
    maxBounds: [[-88, -540], [88, 540]], maxBoundsViscosity: 0.8, tapTolerance: 12,
  }).setView([25, 10], el.clientWidth < 500 ? 0 : 1.5);
  const credits = L.control.attribution({ position: 'bottomright', prefix: '<a href="https://leafletjs.com">Leaflet</a>' }).addTo(map);
  creditsButton(map, credits);
  countries ??= fetch('/ui/countries.json').then((r) => r.json());
  const cfg = await config();
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, { attribution: cfg.tile_attribution ? escapeHTML(cfg.tile_attribution) : '' }).addTo(map);
  } else {
    const land = await countries;
    const renderer = L.canvas({ padding: 0.5 });
    for (const shift of [-360, 0, 360]) {
      L.geoJSON(land, {
        style: { color: '#b9c3d0', weight: 0.8, fillColor: '#eef1f5', fillOpacity: 1 },
        interactive: false, renderer,
        coordsToLatLng: (c) => L.latLng(c[1], c[0] + shift),
        attribution: shift === 0 ? 'Countries: <a href="https://www.naturalearthdata.com">Natural Earth</a>' : undefined,
      } as L.GeoJSONOptions).addTo(map);
    }
  }
  geoAttributions().then((as) => as.forEach((a) => credits.addAttribution(a)));
  return map;
}

// creditsButton folds the attribution line behind an (i) button on small
// maps, so it never covers the map; a click or Enter unfolds it.
function creditsButton(map: L.Map, credits: L.Control.Attribution): void {
  const Btn = L.Control.extend({
    onAdd() {
      const b = L.DomUtil.create('button', 'credits-btn');
      b.type = 'button';
      b.title = 'Map data credits';
      b.setAttribute('aria-label', 'Map data credits');
      b.setAttribute('aria-expanded', 'false');
      b.textContent = 'i';
      L.DomEvent.disableClickPropagation(b);
      b.addEventListener('click', () => {
        const open = !map.getContainer().classList.toggle('credits-folded');
        b.setAttribute('aria-expanded', String(open));
      });
      return b;
    },
  });
  new Btn({ position: 'bottomright' }).addTo(map);
  map.getContainer().classList.add('credits-folded');
  void credits;
}

// geoAttributions are the credits of the loaded geo data (DB-IP etc.),
// which their licences ask to show next to the places they give.
export async function geoAttributions(): Promise<string[]> {
  try {
    const about = await getJSON<{ attributions?: Attribution[] }>('/api/v1/geo/about');
    return (about.attributions ?? []).map((a) => a.html ?? (a.url ? `<a href="${escapeHTML(a.url)}">${escapeHTML(a.text)}</a>` : escapeHTML(a.text)));
  } catch {
    return [];
  }
}

// greatCircle returns points along the great circle from a to b with
// continuous longitudes starting at a's (which may lie outside ±180°): the
// last point is b, shifted by whole turns to continue the line, so a line
// across the Pacific stays in one world copy instead of jumping to the far
// edge of the map.
export function greatCircle(a: L.LatLng, b: L.LatLng, n = 48): L.LatLng[] {
  const rad = Math.PI / 180;
  const [φ1, λ1, φ2, λ2] = [a.lat * rad, a.lng * rad, b.lat * rad, b.lng * rad];
  const d = 2 * Math.asin(Math.sqrt(Math.sin((φ2 - φ1) / 2) ** 2 + Math.cos(φ1) * Math.cos(φ2) * Math.sin((λ2 - λ1) / 2) ** 2));
  if (d < 1e-6) return [a, L.latLng(b.lat, nearLng(b.lng, a.lng))];
  const out: L.LatLng[] = [];
  let prev = a.lng;
  for (let i = 0; i <= n; i++) {
    const f = i / n;
    const A = Math.sin((1 - f) * d) / Math.sin(d), B = Math.sin(f * d) / Math.sin(d);
    const x = A * Math.cos(φ1) * Math.cos(λ1) + B * Math.cos(φ2) * Math.cos(λ2);
    const y = A * Math.cos(φ1) * Math.sin(λ1) + B * Math.cos(φ2) * Math.sin(λ2);
    const z = A * Math.sin(φ1) + B * Math.sin(φ2);
    prev = nearLng(Math.atan2(y, x) / rad, prev);
    out.push(L.latLng(Math.atan2(z, Math.sqrt(x * x + y * y)) / rad, prev));
  }
  return out;
}

// nearLng shifts lng by whole turns to lie within 180° of ref.
export function nearLng(lng: number, ref: number): number {
  while (lng - ref > 180) lng -= 360;
  while (lng - ref < -180) lng += 360;
  return lng;
}

// offsetLine moves a line sideways by px screen pixels at the map's zoom,
// so traces that share a path are drawn side by side.
export function offsetLine(map: L.Map, pts: L.LatLng[], px: number): L.LatLng[] {
  if (!px || pts.length < 2) return pts;
  const z = map.getZoom();
  const p = pts.map((ll) => map.project(ll, z));
  return p.map((q, i) => {
    const a = p[Math.max(0, i - 1)], b = p[Math.min(p.length - 1, i + 1)];
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    return map.unproject(L.point(q.x - (dy / len) * px, q.y + (dx / len) * px), z);
  });
}

// Trace colours (one per location) and AS colours (one per network) come
// from two palettes so that a line and a marker are never confused.
export const palette = ['#1d4ed8', '#c2410c', '#047857', '#7e22ce', '#be123c', '#0e7490', '#854d0e', '#4338ca'];
export const asPalette = ['#f59f00', '#20c997', '#748ffc', '#f783ac', '#94d82d', '#66d9e8', '#ff922b', '#b197fc', '#ff8787', '#69db7c', '#ffd43b', '#4dabf7'];
