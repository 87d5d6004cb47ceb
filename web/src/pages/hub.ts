// The hub (every tool, one card each) and the page for unknown paths.
import { h } from '../dom';
import { shell, tools } from '../shell';

export function hub(root: HTMLElement): void {
  root.replaceChildren(shell('/tools', 'Network and DNS tools', 'Look, diagnose and watch: every tool runs on this server through the same engines as the dnsscience CLI and API.',
    h('ul', { class: 'cards' }, ...tools.map((t) => h('li', {}, h('a', { class: 'card', href: t.path },
      h('span', { class: 'card-icon', 'aria-hidden': 'true' }, t.icon), h('strong', {}, t.name), h('span', {}, t.blurb))))),
    'Visual traceroute on a world map, DNS lookups and propagation, certificate, HTTP, TCP and WebSocket checks, IP geolocation and layered diagnosis.'));
}

// notFound is shown for a path no page has (the server answers it 404).
export function notFound(root: HTMLElement): void {
  root.replaceChildren(shell('', 'Page not found', `There is no page at ${location.pathname}.`,
    h('div', { class: 'tool-form not-found' }, h('p', {}, 'Pick a tool, or read the ', h('a', { href: '/api/docs' }, 'API documentation'), '.'),
      h('ul', { class: 'plain-links' }, ...tools.map((t) => h('li', {}, h('a', { href: t.path }, t.name))))),
    'This page does not exist.'));
}
