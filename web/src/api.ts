// The JSON API: requests, RFC 9457 problems and live measurement streams.

export interface FieldError { field: string; detail: string }
export interface Problem { type?: string; title: string; status: number; detail?: string; errors?: FieldError[]; retry_after?: number }

export class APIError extends Error {
  constructor(public problem: Problem) { super(problem.detail || problem.title); }
}

export interface Measurement {
  id: string; type: string; target: string; status: string; error?: string;
  options?: unknown; locations?: string[]; result?: any; created_at?: string; finished_at?: string;
}

async function problemOf(resp: Response): Promise<APIError> {
  let p: Problem = { title: resp.statusText || 'Request failed', status: resp.status };
  try { p = { ...p, ...(await resp.json()) }; } catch { /* not JSON */ }
  if (resp.status === 429 && !p.retry_after) {
    const ra = Number(resp.headers.get('Retry-After'));
    if (ra > 0) p.retry_after = ra;
  }
  return new APIError(p);
}

export async function getJSON<T>(url: string): Promise<T> {
  const resp = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!resp.ok) throw await problemOf(resp);
  return resp.json() as Promise<T>;
}

// postJSON posts body as JSON and reads the JSON answer.
export async function postJSON<T>(url: string, body: unknown): Promise<T> {
  const resp = await fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
  });
  if (!resp.ok) throw await problemOf(resp);
  return resp.json() as Promise<T>;
}

// postAs posts with an API key as Authorization: Bearer (none when key is
// empty) and reads the JSON answer; a refusal (401, 403) is an APIError.
export async function postAs<T>(url: string, key: string): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const resp = await fetch(url, { method: 'POST', headers });
  if (!resp.ok) throw await problemOf(resp);
  return resp.json() as Promise<T>;
}

export async function postMeasurement(body: { type: string; target: string; options?: object; locations?: string[] }): Promise<Measurement> {
  const resp = await fetch('/api/v1/measurements', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
  });
  if (!resp.ok) throw await problemOf(resp);
  return resp.json();
}

export type StreamEvent = { type: string; data: any };

// stream follows a measurement's events until its result; onEvent sees
// every event (hop, answer, layer, status, result). It resolves with the
// final measurement.
export function stream(id: string, onEvent: (ev: StreamEvent) => void): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const es = new EventSource(`/api/v1/measurements/${encodeURIComponent(id)}/stream`);
    let done = false;
    for (const t of ['status', 'hop', 'answer', 'layer']) {
      es.addEventListener(t, (e) => onEvent({ type: t, data: JSON.parse((e as MessageEvent).data) }));
    }
    es.addEventListener('result', (e) => {
      done = true;
      es.close();
      const m = JSON.parse((e as MessageEvent).data) as Measurement;
      onEvent({ type: 'result', data: m });
      resolve(m);
    });
    es.onerror = () => {
      if (done) return;
      es.close();
      // The stream ended without a result: read the stored measurement.
      getJSON<Measurement>(`/api/v1/measurements/${encodeURIComponent(id)}`).then(resolve, reject);
    };
  });
}

// run posts a measurement and follows it to the end.
export async function run(type: string, target: string, options: object, onEvent: (ev: StreamEvent) => void = () => {}, locations?: string[]): Promise<Measurement> {
  const m = await postMeasurement({ type, target, options, locations });
  return stream(m.id, onEvent);
}
