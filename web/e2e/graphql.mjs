// The GraphQL explorer at /graphql in Chromium: a mutation creates a dns
// measurement (POST), then a subscription to it runs through the npm
// graphql-ws client (graphql-transport-ws over WebSocket) and receives the
// measurement's events ending with its final state.
// Usage: node e2e/graphql.mjs http://127.0.0.1:PORT
import { checker, open, shot } from './lib.mjs';

const base = process.argv[2];
const { ok, done } = checker();
const b = await open(base);
const { page } = b;
try {
  await page.goto(base + '/graphql', { waitUntil: 'networkidle' });
  await page.waitForSelector('body[data-ready="true"]');
  ok((await page.title()).includes('GraphQL'), `title ${await page.title()}`);
  const run = async (query, variables = '{}', until = /^HTTP \d+$/) => {
    await page.fill('#gql-query', query);
    await page.fill('#gql-variables', variables);
    await page.click('#gql-run');
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector('#gql-status').textContent), until.source);
    return { status: await page.textContent('#gql-status'), out: await page.textContent('#gql-result') };
  };
  const created = await run('mutation { createMeasurement(kind: "dns", target: "www.example.test", options: {dns: {type: "A"}}) { id status } }');
  ok(created.status === 'HTTP 200', `mutation status ${created.status}`);
  const id = JSON.parse(created.out)?.data?.createMeasurement?.id;
  ok(id, `mutation answered ${created.out}`);
  const sub = await run('subscription($id: ID!) { measurementEvents(id: $id) { seq type measurement { id status result } } }',
    JSON.stringify({ id }), /^(Complete|Error.*)$/);
  ok(sub.status === 'Complete', `subscription ended with ${sub.status}`);
  const events = sub.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).data?.measurementEvents);
  const last = events.at(-1);
  ok(events.length >= 1 && last?.type === 'result' && last?.measurement?.id === id, `events ${sub.out}`);
  ok(last?.measurement?.status === 'finished' && JSON.stringify(last?.measurement?.result ?? '').includes('192.0.2.10'), `final state ${JSON.stringify(last)}`);
  ok(events.every((e, i) => i === 0 || e.seq > events[i - 1].seq), `events out of order: ${sub.out}`);
  const q = await run('{ kinds { name } }');
  ok(q.out.includes('"trace"'), `query answered ${q.out}`);
  await shot(page, 'graphql');
  ok(b.offsite.length === 0, `requests left the server: ${b.offsite}`);
  ok(b.consoleErrors.length === 0, `console errors: ${b.consoleErrors}`);
} finally {
  await b.close();
}
done('graphql explorer');
