// The world map: Natural Earth country outlines drawn offline (no tile
// server), an optional raster tile layer from the server's configuration,
// and the attributions the data licences ask for.
import * as L from 'leaflet';
import { getJSON } from './api';

export interface UIConfig { version: string; tile_url?: string; tile_attribution?: string }
interface Attribution { text: string; url?: string; html?: string }

let uiConfig: Promise<UIConfig> | undefined;
export function config(): Promise<UIConfig> {
  uiConfig ??= getJSON<UIConfig>('/api/v1/ui-config').catch(() => ({ version: '' }));
  return uiConfig;
}

let countries: Promise<GeoJSON.FeatureCollection> | undefined;

export function escapeHTML(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export async function worldMap(el: HTMLElement): Promise<L.Map> {
  const map = L.map(el, { worldCopyJump: true, minZoom: 1, maxZoom: 12, zoomSnap: 0.25, attributionControl: true, preferCanvas: false })
    .setView([30, 10], 1.5);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  countries ??= fetch('/ui/countries.json').then((r) => r.json());
  const cfg = await config();
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, { attribution: cfg.tile_attribution ? escapeHTML(cfg.tile_attribution) : '' }).addTo(map);
  } else {
    L.geoJSON(await countries, {
      style: { color: '#b9c3d0', weight: 0.8, fillColor: '#e8edf3', fillOpacity: 1 },
      interactive: false,
      attribution: 'Countries: <a href="https://www.naturalearthdata.com">Natural Earth</a>',
    }).addTo(map);
  }
  geoAttributions().then((as) => as.forEach((a) => map.attributionControl.addAttribution(a)));
  return map;
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

// greatCircle returns points along the great circle from a to b.
export function greatCircle(a: L.LatLngExpression, b: L.LatLngExpression, n = 48): L.LatLng[] {
  const p = L.latLng(a), q = L.latLng(b);
  const rad = Math.PI / 180;
  const [φ1, λ1, φ2, λ2] = [p.lat * rad, p.lng * rad, q.lat * rad, q.lng * rad];
  const d = 2 * Math.asin(Math.sqrt(Math.sin((φ2 - φ1) / 2) ** 2 + Math.cos(φ1) * Math.cos(φ2) * Math.sin((λ2 - λ1) / 2) ** 2));
  if (d < 1e-6) return [p, q];
  const out: L.LatLng[] = [];
  let prevLng = p.lng;
  for (let i = 0; i <= n; i++) {
    const f = i / n;
    const A = Math.sin((1 - f) * d) / Math.sin(d), B = Math.sin(f * d) / Math.sin(d);
    const x = A * Math.cos(φ1) * Math.cos(λ1) + B * Math.cos(φ2) * Math.cos(λ2);
    const y = A * Math.cos(φ1) * Math.sin(λ1) + B * Math.cos(φ2) * Math.sin(λ2);
    const z = A * Math.sin(φ1) + B * Math.sin(φ2);
    let lng = Math.atan2(y, x) / rad;
    while (lng - prevLng > 180) lng -= 360; // keep the line continuous across the antimeridian
    while (lng - prevLng < -180) lng += 360;
    prevLng = lng;
    out.push(L.latLng(Math.atan2(z, Math.sqrt(x * x + y * y)) / rad, lng));
  }
  return out;
}

export const palette = ['#2563eb', '#d9480f', '#0f9d58', '#c2255c', '#7048e8', '#0b7285', '#a16207', '#5c7cfa'];
