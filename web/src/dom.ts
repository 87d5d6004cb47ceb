// Small DOM helpers: element building, forms, errors.
import { APIError } from './api';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector(sel) as T;

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  const id = input.id || `f-${(input as HTMLInputElement).name}`;
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

export function input(name: string, attrs: Attrs = {}): HTMLInputElement {
  return h('input', { name, autocomplete: 'off', spellcheck: 'false', ...attrs });
}

export function select(name: string, options: (string | [string, string])[], value?: string): HTMLSelectElement {
  return h('select', { name }, ...options.map((o) => {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    return h('option', { value: v, selected: v === value }, t);
  }));
}

export function checkbox(name: string, label: string, checked = false): HTMLElement {
  return h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked }), ' ', label);
}

export function ms(v: number | undefined): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  return v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`;
}

// showError renders an API error plainly: what was wrong, which fields, and
// for a rate limit how long to wait. Field errors mark their inputs.
export function showError(box: HTMLElement, err: unknown, form?: HTMLFormElement): void {
  box.replaceChildren();
  form?.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  if (!(err instanceof APIError)) {
    box.append(h('div', { class: 'alert error', role: 'alert' }, h('strong', {}, 'Something went wrong. '), String((err as Error)?.message ?? err)));
    return;
  }
  const p = err.problem;
  let lead = p.title;
  if (p.status === 429) lead = 'Rate limit reached';
  if (p.status === 403) lead = 'Refused by the target policy';
  const alert = h('div', { class: `alert ${p.status === 429 ? 'warn' : 'error'}`, role: 'alert', 'data-status': p.status },
    h('strong', {}, `${lead} (${p.status}). `), p.status === 429 && p.retry_after ? (p.detail ?? '').replace(/;?\s*retry in \d+ ?s\.?$/i, '.') : p.detail ?? '');
  if (p.status === 429 && p.retry_after) {
    const wait = h('span', { class: 'wait' }, `Try again in ${p.retry_after} s.`);
    alert.append(' ', wait);
    let left = p.retry_after;
    const t = setInterval(() => {
      left -= 1;
      if (!wait.isConnected || left <= 0) { clearInterval(t); wait.textContent = 'You can try again now.'; return; }
      wait.textContent = `Try again in ${left} s.`;
    }, 1000);
  }
  if (p.errors?.length) {
    alert.append(h('ul', {}, ...p.errors.map((fe) => h('li', {}, h('code', {}, fe.field), ': ', fe.detail))));
    for (const fe of p.errors) {
      const name = fe.field.replace(/^options\./, '');
      form?.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
    }
  }
  box.append(alert);
}

export function download(name: string, data: unknown): void {
  const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

export function badge(text: string, kind: string): HTMLElement {
  return h('span', { class: `badge ${kind}` }, text);
}

export function table(head: string[], rows: (Child | Child[])[][], cls = ''): HTMLTableElement {
  return h('table', { class: cls },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

// scroller wraps a wide table so it scrolls sideways on small screens; it
// is focusable so a keyboard can scroll it too.
export function scroller(t: HTMLElement, label = 'Table'): HTMLElement {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t.querySelector('caption')?.textContent || label }, t);
}
