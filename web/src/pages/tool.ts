// toolPage: the frame every measurement tool shares — a form, plain errors,
// a verdict and result area, a permalink that restores the whole form
// (?m=ID for measurements, the form's fields for the GET tools) and JSON
// export.
import { getJSON, Measurement } from '../api';
import { download, h, showError } from '../dom';
import { applyLimits } from '../kinds';
import { shell } from '../shell';

export interface ToolSpec {
  path: string; title: string; intro: string; description?: string;
  // kind is the measurement type the page runs; a permalink to another
  // kind opens that kind's page. Pages without a kind keep their form in
  // the URL instead (?field=value) and run it when opened.
  kind?: string;
  fields: HTMLElement[];
  submit: string;
  // run performs the request; it may render partial results into out.
  run: (form: HTMLFormElement, out: HTMLElement) => Promise<unknown>;
  // render draws the final result.
  render: (data: any, out: HTMLElement, form: HTMLFormElement) => void;
  // fill puts what the generic restore cannot back in the form.
  fill?: (form: HTMLFormElement, m: Measurement) => void;
  aside?: HTMLElement;
}

export const val = (form: HTMLFormElement, name: string) => ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
export const checked = (form: HTMLFormElement, name: string) => !!(form.elements.namedItem(name) as HTMLInputElement | null)?.checked;
export const list = (form: HTMLFormElement, name: string) => val(form, name).split(/[,\s]+/).map((s) => s.trim()).filter(Boolean);

// pageOf is the page that shows a measurement type.
export const pageOf: Record<string, string> = {
  dns: '/dns', propagation: '/propagation', tcp: '/tcp', cert: '/cert', http: '/http', ws: '/ws', trace: '/visualtrace', geo: '/geo', diagnose: '/diagnose', scan: '/domainhealth', roots: '/roots',
};

// redirectForKind opens the page of a measurement's own kind when a
// permalink names a measurement of another kind; true when it did.
export function redirectForKind(m: Measurement, kind: string): boolean {
  if (!m || m.type === kind || !pageOf[m.type]) return false;
  location.replace(`${pageOf[m.type]}?m=${encodeURIComponent(m.id)}`);
  return true;
}

// restoreForm sets every named field from a stored measurement's target
// and options (lists joined with commas, booleans as check boxes; fields
// left out keep their defaults, check boxes left out are off).
export function restoreForm(form: HTMLFormElement, values: Record<string, unknown>, absentOff = true): void {
  for (const el of [...form.elements] as HTMLInputElement[]) {
    const v = values[el.name];
    // A check box left out is off (options omit false values).
    if (el.name && el.type === 'checkbox' && (absentOff || el.name in values)) { el.checked = v === true || v === 'true' || v === '1' || v === 'on'; continue; }
    if (!el.name || !(el.name in values)) continue;
    if (el instanceof HTMLSelectElement && v && ![...el.options].some((o) => o.value === String(v))) el.append(h('option', { value: String(v) }, String(v)));
    el.value = Array.isArray(v) ? v.join(', ') : v === undefined || v === null ? '' : String(v);
  }
}

// formQuery is the form as URL parameters (empty fields and unchecked boxes left out).
function formQuery(form: HTMLFormElement): string {
  const q = new URLSearchParams();
  for (const el of [...form.elements] as HTMLInputElement[]) {
    if (!el.name || el.type === 'submit') continue;
    if (el.type === 'checkbox') { if (el.checked) q.set(el.name, '1'); } else if (el.value.trim()) q.set(el.name, el.value.trim());
  }
  return q.toString();
}

export type VerdictKind = 'ok' | 'warn' | 'fail';

// verdictBox is the one-line answer a page leads with: what happened, in
// words, with the raw evidence folded behind "Details".
export function verdictBox(kind: VerdictKind, title: string, detail?: (Node | string)[] | string, raw?: string): HTMLElement {
  const icon = kind === 'ok' ? '✓' : kind === 'warn' ? '!' : '✕';
  return h('div', { class: `verdict ${kind}`, 'data-verdict-kind': kind, role: 'status' },
    h('span', { class: 'v-icon', 'aria-hidden': 'true' }, icon),
    h('div', { class: 'v-body' }, h('strong', { class: 'v-title' }, title),
      detail ? h('p', {}, ...(Array.isArray(detail) ? detail : [detail])) : null,
      raw ? h('details', { class: 'raw' }, h('summary', {}, 'Details'), h('pre', { class: 'mono wrap' }, raw)) : null));
}

export function toolPage(root: HTMLElement, spec: ToolSpec): void {
  const errors = h('div', { class: 'errors', 'aria-live': 'polite' });
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const btn = h('button', { type: 'submit', class: 'primary' }, spec.submit);
  const exportBtn = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Export JSON');
  const permalink = h('a', { class: 'permalink', hidden: true, href: '#' }, 'Permalink');
  const form = h('form', { class: 'tool-form', novalidate: true }, h('div', { class: 'row' }, ...spec.fields), h('div', { class: 'actions' }, btn, permalink, exportBtn));
  let last: unknown;
  const done = (data: unknown) => {
    last = data;
    exportBtn.hidden = false;
    const m = data as Measurement;
    const link = spec.kind ? (m?.id ? `${spec.path}?m=${encodeURIComponent(m.id)}` : '') : `${spec.path}?${formQuery(form)}`;
    if (link) {
      permalink.href = link;
      permalink.hidden = false;
      history.replaceState(null, '', link);
    }
    out.replaceChildren();
    if (m && m.status === 'failed') {
      out.append(verdictBox('fail', 'The measurement could not run.', undefined, m.error ?? ''));
      return;
    }
    spec.render(spec.kind ? m.result : data, out, form);
  };
  const submit = async () => {
    errors.replaceChildren();
    form.querySelectorAll('[aria-invalid]').forEach((x) => x.removeAttribute('aria-invalid'));
    const missing = [...form.querySelectorAll<HTMLInputElement>('[required]')].find((x) => !x.value.trim());
    if (missing) {
      missing.setAttribute('aria-invalid', 'true');
      errors.append(h('div', { class: 'alert error', role: 'alert' }, `${form.querySelector(`label[for="${missing.id}"]`)?.textContent ?? missing.name} is required.`));
      missing.focus();
      return;
    }
    btn.disabled = true;
    btn.textContent = 'Working…';
    out.replaceChildren(h('p', { class: 'muted working' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Measuring…'));
    try {
      done(await spec.run(form, out));
    } catch (err) {
      out.replaceChildren();
      showError(errors, err, form);
    } finally {
      btn.disabled = false;
      btn.textContent = spec.submit;
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); void submit(); });
  exportBtn.addEventListener('click', () => download(`${spec.path.slice(1)}.json`, last));
  root.replaceChildren(shell(spec.path, spec.title, spec.intro, h('div', { class: 'tool-layout' }, h('div', { class: 'tool-main' }, form, errors, out), spec.aside ?? ''), spec.description));
  if (spec.kind) void applyLimits(form, spec.kind);
  const q = new URLSearchParams(location.search);
  const id = q.get('m');
  if (id && spec.kind) {
    getJSON<Measurement>(`/api/v1/measurements/${encodeURIComponent(id)}`).then((m) => {
      if (redirectForKind(m, spec.kind!)) return;
      restoreForm(form, { ...(m.options as object ?? {}), target: m.target });
      spec.fill?.(form, m);
      done(m);
    }, (err) => showError(errors, err));
  } else if (!id && [...q.keys()].length) {
    // A form in the URL: fill it; run it when it names a target (GET tools).
    restoreForm(form, Object.fromEntries(q), !spec.kind);
    if (!spec.kind) void submit();
  }
}
