// toolPage: the frame every measurement tool shares — a form, plain errors,
// a result area, a permalink (?m=ID) and JSON export.
import { getJSON, Measurement } from '../api';
import { download, h, showError } from '../dom';
import { shell } from '../shell';

export interface ToolSpec {
  path: string; title: string; intro: string;
  fields: HTMLElement[];
  submit: string;
  // run performs the request; it may render partial results into out.
  run: (form: HTMLFormElement, out: HTMLElement) => Promise<unknown>;
  // render draws the final result.
  render: (data: any, out: HTMLElement) => void;
  // fill puts a stored measurement's target and options back in the form.
  fill?: (form: HTMLFormElement, m: Measurement) => void;
  aside?: HTMLElement;
}

export const val = (form: HTMLFormElement, name: string) => ((form.elements.namedItem(name) as HTMLInputElement | null)?.value ?? '').trim();
export const checked = (form: HTMLFormElement, name: string) => !!(form.elements.namedItem(name) as HTMLInputElement | null)?.checked;

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
    const id = (data as Measurement)?.id;
    if (id) {
      permalink.href = `${spec.path}?m=${encodeURIComponent(id)}`;
      permalink.hidden = false;
      history.replaceState(null, '', permalink.href);
    }
    const m = data as Measurement;
    out.replaceChildren();
    if (m && m.status === 'failed') {
      out.append(h('div', { class: 'alert error', role: 'alert' }, h('strong', {}, 'The measurement failed. '), m.error ?? ''));
      return;
    }
    spec.render(m && 'result' in m && m.status ? m.result : data, out);
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
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
    out.replaceChildren(h('p', { class: 'muted working' }, 'Measuring…'));
    try {
      done(await spec.run(form, out));
    } catch (err) {
      out.replaceChildren();
      showError(errors, err, form);
    } finally {
      btn.disabled = false;
      btn.textContent = spec.submit;
    }
  });
  exportBtn.addEventListener('click', () => download(`${spec.path.slice(1)}.json`, last));
  root.replaceChildren(shell(spec.path, spec.title, spec.intro, h('div', { class: 'tool-layout' }, h('div', {}, form, errors, out), spec.aside ?? '')));
  const id = new URLSearchParams(location.search).get('m');
  if (id) {
    getJSON<Measurement>(`/api/v1/measurements/${encodeURIComponent(id)}`).then((m) => {
      const t = form.elements.namedItem('target') as HTMLInputElement | null;
      if (t) t.value = m.target;
      spec.fill?.(form, m);
      done(m);
    }, (err) => showError(errors, err));
  }
}
