// Entry point: picks the page for the path. The visual traceroute (and the
// map library with it) is loaded only on its own page.
import './style.css';
import { compare, dns, propagation, scan } from './pages/dnstools';
import { diagnose } from './pages/diagnose';
import { health } from './pages/health';
import { hub, notFound } from './pages/hub';
import { cert, geo, http, tcp, ws } from './pages/probes';
import { checks, status } from './pages/monitor';

type Page = (root: HTMLElement) => void | Promise<void>;
const pages: Record<string, Page> = {
  '/': hub, '/tools': hub, '/dns': dns, '/propagation': propagation, '/cert': cert, '/http': http, '/ws': ws, '/tcp': tcp, '/geo': geo,
  '/diagnose': diagnose, '/scan': scan, '/domainhealth': health, '/compare': compare, '/checks': checks, '/status': status,
  '/snapshots': (root) => import('./pages/snapshots').then((m) => m.snapshots(root)),
  '/roots': (root) => import('./pages/roots').then((m) => m.roots(root)),
  '/visualtrace': (root) => import('./pages/visualtrace').then((m) => m.visualtrace(root)),
  '/graphql': (root) => import('./pages/graphql').then((m) => m.graphqlPage(root)),
};

const root = document.getElementById('app')!;
const page = pages[location.pathname.replace(/\/$/, '') || '/'] ?? notFound;
Promise.resolve(page(root)).finally(() => document.body.setAttribute('data-ready', 'true'));
