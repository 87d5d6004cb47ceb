// The measurement registry as the server publishes it (GET /api/v1/kinds):
// option names, meanings, defaults and limits. Forms take their limits
// from it instead of repeating them, so the page, the API, suites and the
// CLI accept the same values.
import { getJSON } from './api';

export interface OptionField { name: string; type: string; description: string; default?: string; min?: string; max?: string; enum?: string[] }
export interface Kind { name: string; aliases?: string[]; summary: string; target: string; options: OptionField[] }

let kinds: Promise<Kind[]> | undefined;

export function registry(): Promise<Kind[]> {
  kinds ??= getJSON<{ kinds: Kind[] }>('/api/v1/kinds').then((r) => r.kinds).catch(() => []);
  return kinds;
}

// applyLimits gives every input of form named after an option of kind the
// option's limits (min, max), its default as placeholder and its meaning
// as title; number inputs of millisecond options stay as they are named.
export async function applyLimits(form: HTMLFormElement, kind: string): Promise<void> {
  const k = (await registry()).find((x) => x.name === kind);
  if (!k) return;
  for (const f of k.options ?? []) {
    const el = form.elements.namedItem(f.name);
    if (!(el instanceof HTMLInputElement)) continue;
    if (f.type === 'integer') {
      if (f.min) el.min = f.min;
      if (f.max) el.max = f.max;
    }
    if (f.default && !el.placeholder) el.placeholder = f.default;
    if (f.description && !el.title) el.title = f.description;
  }
}
