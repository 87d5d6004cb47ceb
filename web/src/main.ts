// Entry point: picks the page for the path.
import './style.css';
import { visualtrace } from './pages/visualtrace';
import { checks, status } from './pages/monitor';
import { cert, compare, diagnose, dns, http, hub, propagation, scan, ws } from './pages/tools';

const pages: Record<string, (root: HTMLElement) => void | Promise<void>> = {
  '/': hub, '/tools': hub, '/visualtrace': visualtrace, '/dns': dns, '/propagation': propagation, '/cert': cert,
  '/http': http, '/ws': ws, '/diagnose': diagnose, '/scan': scan, '/compare': compare,
  '/checks': checks, '/status': status,
};

const root = document.getElementById('app')!;
const page = pages[location.pathname.replace(/\/$/, '') || '/'] ?? hub;
Promise.resolve(page(root)).finally(() => document.body.setAttribute('data-ready', 'true'));
