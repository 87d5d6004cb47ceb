// The GraphQL explorer at /graphql: a query (or mutation, or subscription)
// with variables, run against this server. Queries and mutations are POSTed;
// subscriptions go over WebSocket with the graphql-ws client
// (graphql-transport-ws), each event shown as it arrives.
import { createClient } from 'graphql-ws';
import { field, h } from '../dom';
import { shell } from '../shell';

const example = `query Recent {
  measurements(limit: 5) {
    measurements { id kind target status createdAt }
    nextBefore
  }
  kinds { name summary }
}

# A live trace: create it, then subscribe with its id.
# mutation { createMeasurement(kind: "trace", target: "example.com", options: {trace: {max_hops: 20}}) { id } }
# subscription($id: ID!) { measurementEvents(id: $id) { seq type hop { ttl addrs { addr asn city } } measurement { status } } }`;

// operationKind is the kind of the first operation in the document (the
// one run when there is no operation name).
export function operationKind(doc: string): 'query' | 'mutation' | 'subscription' {
  const text = doc.replace(/#[^\n]*/g, '').trim();
  const m = /^(query|mutation|subscription)\b/.exec(text);
  return (m?.[1] as 'query' | 'mutation' | 'subscription') ?? 'query';
}

export function graphqlPage(root: HTMLElement): void {
  const query = h('textarea', { id: 'gql-query', name: 'query', rows: 14, spellcheck: 'false', class: 'mono' }) as HTMLTextAreaElement;
  query.value = new URLSearchParams(location.search).get('q') ?? example;
  const variables = h('textarea', { id: 'gql-variables', name: 'variables', rows: 3, spellcheck: 'false', class: 'mono' }) as HTMLTextAreaElement;
  variables.value = '{}';
  const out = h('pre', { id: 'gql-result', class: 'result mono', 'aria-live': 'polite' });
  const status = h('p', { id: 'gql-status', class: 'hint' });
  let stop: (() => void) | undefined;
  const run = async (ev: Event) => {
    ev.preventDefault();
    stop?.();
    out.textContent = '';
    let vars: Record<string, unknown>;
    try {
      vars = JSON.parse(variables.value || '{}');
    } catch (e) {
      status.textContent = `Variables are not JSON: ${e}`;
      return;
    }
    if (operationKind(query.value) === 'subscription') {
      status.textContent = 'Subscribed…';
      stop = subscribe(query.value, vars, (line) => { out.textContent += line + '\n'; }, (msg) => { status.textContent = msg; });
      return;
    }
    status.textContent = 'Running…';
    const resp = await fetch('/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: query.value, variables: vars }) });
    out.textContent = JSON.stringify(await resp.json(), null, 2);
    status.textContent = `HTTP ${resp.status}`;
  };
  const form = h('form', { class: 'tool-form gql', onsubmit: run },
    field('Query', query), field('Variables (JSON)', variables),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'gql-run' }, 'Run')),
    status);
  root.replaceChildren(shell('/graphql', 'GraphQL explorer', 'Queries, mutations and live subscriptions over the same service as the REST API.',
    form, out,
    h('p', {}, 'Schema: ', h('a', { href: '/api/v1/schema.graphql' }, '/api/v1/schema.graphql'), ' · REST: ', h('a', { href: '/api/docs' }, 'API documentation'))));
}

// subscribe runs a subscription with the graphql-ws client; each result is
// written as one JSON line. The returned function unsubscribes.
function subscribe(query: string, variables: Record<string, unknown>, line: (s: string) => void, done: (msg: string) => void): () => void {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
  const client = createClient({ url, lazy: true, retryAttempts: 0 });
  const dispose = client.subscribe({ query, variables }, {
    next: (v) => line(JSON.stringify(v)),
    error: (e) => { done(`Error: ${e instanceof Error ? e.message : JSON.stringify(e)}`); void client.dispose(); },
    complete: () => { done('Complete'); void client.dispose(); },
  });
  return () => { dispose(); void client.dispose(); };
}
