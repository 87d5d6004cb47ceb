// Builds the web UI into internal/server/webdist (git-ignored), which the Go
// server embeds: the script and style bundle, the offline country outlines
// (Natural Earth via world-atlas), the API docs assets, and .gz twins.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { feature } from 'topojson-client';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'internal', 'server', 'webdist');
const mod = (p) => join(here, 'node_modules', p);

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'docs'), { recursive: true });

// The pages' script is split: the hub and the tool pages load app.js and
// app.css only; the visual traceroute and the maps load their chunks
// (Leaflet) and map.css when opened.
const built = await build({
  entryPoints: { app: join(here, 'src', 'main.ts'), map: join(here, 'src', 'map.css') },
  bundle: true, minify: true, sourcemap: false, format: 'esm', target: 'es2020', splitting: true, metafile: true,
  outdir: out, entryNames: '[name]', chunkNames: 'c/[name]-[hash]', assetNames: 'c/[name]-[hash]',
  loader: { '.png': 'dataurl', '.svg': 'dataurl' }, legalComments: 'linked', logLevel: 'warning',
});

// Countries: TopoJSON to GeoJSON, coordinates rounded to 0.01°.
const topo = JSON.parse(readFileSync(mod('world-atlas/countries-110m.json'), 'utf8'));
const geo = feature(topo, topo.objects.countries);
const round = (c) => (typeof c[0] === 'number' ? [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100] : c.map(round));
// A ring that crosses the antimeridian is made continuous (longitudes past
// 180°), so Leaflet draws no stray line across the whole map.
const unwrap = (ring) => {
  const out = [ring[0]];
  for (let i = 1; i < ring.length; i++) {
    let [lon, lat] = ring[i];
    const prev = out[i - 1][0];
    while (lon - prev > 180) lon -= 360;
    while (lon - prev < -180) lon += 360;
    out.push([lon, lat]);
  }
  return out;
};
for (const f of geo.features) {
  const g = f.geometry;
  if (f.properties.name === 'Antarctica') { /* drawn along the map's bottom edge as it is */ } else if (g.type === 'Polygon') g.coordinates = g.coordinates.map(unwrap);
  else if (g.type === 'MultiPolygon') g.coordinates = g.coordinates.map((p) => p.map(unwrap));
  f.geometry.coordinates = round(f.geometry.coordinates);
  f.properties = { name: f.properties.name };
}
writeFileSync(join(out, 'countries.json'), JSON.stringify(geo));

// API docs: Swagger UI's own files, started by a script file (the CSP allows no inline script).
copyFileSync(mod('swagger-ui-dist/swagger-ui-bundle.js'), join(out, 'docs', 'swagger-ui-bundle.js'));
copyFileSync(mod('swagger-ui-dist/swagger-ui.css'), join(out, 'docs', 'swagger-ui.css'));
writeFileSync(join(out, 'docs', 'init.js'),
  "window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#api', deepLinking: true, tryItOutEnabled: false });\n");

const hash = (f) => createHash('sha256').update(readFileSync(join(out, f))).digest('hex').slice(0, 10);
const v = `${hash('app.js')}${hash('app.css')}`.slice(0, 12);
const mapCSS = `/ui/map.css?v=${hash('map.css')}`;
writeFileSync(join(out, 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27 viewBox=%270 0 16 16%27%3E%3Ccircle cx=%278%27 cy=%278%27 r=%276%27 fill=%27none%27 stroke=%27%231d4ed8%27 stroke-width=%273%27/%3E%3C/svg%3E">
<title>dnsscience</title>
<meta name="description" content="Network and DNS tools: visual traceroute on a world map, DNS lookups and propagation, certificate, HTTP, TCP and WebSocket checks.">
<meta name="dnsscience-map-css" content="${mapCSS}">
<link rel="stylesheet" href="/ui/app.css?v=${v}">
<script type="module" src="/ui/app.js?v=${v}"></script>
</head><body><noscript>The dnsscience pages need JavaScript; the JSON API is at /api/openapi.json.</noscript><div id="app"></div></body></html>
`);
writeFileSync(join(out, 'docs', 'index.html'), `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>dnsscience API</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/ui/docs/swagger-ui.css">
</head><body><p style="font:14px system-ui;margin:12px 20px"><a href="/tools">← dnsscience tools</a> · <a href="/api/openapi.json">openapi.json</a></p>
<div id="api"></div><script src="/ui/docs/swagger-ui-bundle.js"></script><script src="/ui/docs/init.js"></script></body></html>
`);

// Compressed twins and a size report (the first-load budget is app.js + app.css gzipped).
const sizes = {};
const walk = (d) => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
for (const f of walk(out)) {
  if (!/\.(js|css|json|html)$/.test(f)) continue;
  const raw = readFileSync(f);
  const gz = gzipSync(raw, { level: 9 });
  writeFileSync(f + '.gz', gz);
  sizes[f.slice(out.length + 1)] = { raw: raw.length, gzip: gz.length };
}
writeFileSync(join(out, 'sizes.json'), JSON.stringify(sizes, null, 1));
// First-load budgets: what a page fetches before it can draw (gzip).
// /tools: app.js, its static chunks and app.css. /visualtrace: that, plus
// the page's chunks and map.css (the country shapes are data, not code).
const outputs = built.metafile.outputs;
const gzOf = (files) => [...files].reduce((n, f) => n + (sizes[f]?.gzip ?? 0), 0);
const staticOf = (file) => {
  const seen = new Set([file]);
  const key = Object.keys(outputs).find((k) => k.endsWith('/' + file) || k === file);
  for (const imp of outputs[key]?.imports ?? []) if (imp.kind === 'import-statement') staticOf(imp.path.replace(/^.*webdist\//, '')).forEach((f) => seen.add(f));
  return seen;
};
const hubFiles = new Set([...staticOf('app.js'), 'app.css']);
const traceEntry = Object.keys(outputs).map((k) => k.replace(/^.*webdist\//, '')).find((k) => /^c\/visualtrace-.*\.js$/.test(k));
const traceFiles = new Set([...hubFiles, ...staticOf(traceEntry), 'map.css']);
const budgets = [['/tools', hubFiles, 40 * 1024], ['/visualtrace', traceFiles, 150 * 1024]];
let over = false;
for (const [page, files, limit] of budgets) {
  const n = gzOf(files);
  console.log(`web: first load of ${page}: ${(n / 1024).toFixed(1)} KiB gzip JS+CSS (budget ${limit / 1024} KiB)`);
  if (n > limit) over = true;
}
console.log(`web: built ${out}; countries ${(sizes['countries.json'].gzip / 1024).toFixed(1)} KiB gzip`);
if (over) {
  console.error('web: a first-load budget is exceeded');
  process.exit(1);
}
