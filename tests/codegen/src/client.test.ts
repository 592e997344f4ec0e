// The client against a fake csphub: graphql-js executes the generated documents against the
// same schema file codegen read, with made-up data, on 127.0.0.1. The fake's connections page
// as csphub documents them (Relay: first/after, last/before, never both; hasPreviousPage
// forwards is "after was given", hasNextPage backwards is "before was given"; `last` alone is
// the list's last items in the list's order). It checks the paging and the checks, not the real
// server (`run live` does that).
//
//   node --test dist/client.test.js

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildSchema, graphql, GraphQLError } from 'graphql';

import {
  allCases,
  allIncidents,
  bothWaysProblems,
  check,
  createClient,
  GraphQLRequestError,
  pageBackwards,
  pageForwards,
} from './client.js';
import type { All, CaseNode, IncidentNode, PlanItem, SubmissionNode } from './client.js';
import { IncidentsPageDocument } from './generated/graphql.js';
import type { JsonValue } from './json-value.js';

// The scalars' and enums' generated types, checked by tsc: `any` or `unknown` would fail here.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const scalarTypes: [
  Equal<IncidentNode['occurredAt'], string>, // DateTime
  Equal<IncidentNode['area'], { code: string; name: string } | null>, // a linked object
  Equal<IncidentNode['status'], 'ACTIVE' | 'CANCELLED'>,
  Equal<CaseNode['openedOn'], string>, // Date
  Equal<CaseNode['odgDates'], string[]>,
  Equal<PlanItem['signedOffOn'], string | null>,
  Equal<SubmissionNode['parameters'], JsonValue>, // JSON
] = [true, true, true, true, true, true, true];
void scalarTypes;

const schemaPath =
  process.env['CSPHUB_SCHEMA'] ?? fileURLToPath(new URL('../../../schema.graphql', import.meta.url));
const schema = buildSchema(readFileSync(schemaPath, 'utf8'));

/** What the fake does; each test sets it. */
const defaults = {
  incidents: 250,
  cases: 7,
  plans: 3,
  lieAboutCases: false,
  forbidCases: false,
  /** A server bug: `last` pages of cases come newest item first. */
  reverseBackwardCases: false,
};
const fake = { ...defaults };
let requests: { operationName?: string; variables?: Record<string, unknown> }[] = [];
/** How many times each list's totalCount was resolved (csphub counts only then). */
let counted: Record<string, number> = {};

interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

function badInput(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * A page of `all` as csphub gives it. A cursor is the item's key (as csphub's keyset cursors
 * are), here its id: opaque to the client.
 */
function connection<T extends { id: string }>(
  list: string,
  all: T[],
  args: PageArgs,
  options: { totalCount?: number; reverseBackward?: boolean } = {},
) {
  if (args.first != null && args.last != null) {
    throw badInput('give first (to page forwards) or last (backwards), not both');
  }
  const backward = args.last != null;
  const size = (backward ? args.last : args.first) ?? 50;
  if (size < 1 || size > 100) {
    throw badInput(`${backward ? 'last' : 'first'} must be between 1 and 100, not ${size}`);
  }
  const cursorOf = (item: T) => Buffer.from(`key:${item.id}`).toString('base64url');
  const indexOf = (cursor: string) => {
    const i = all.findIndex((item) => cursorOf(item) === cursor);
    if (i < 0) throw badInput('not a cursor this API gave out');
    return i;
  };
  // The items strictly between the cursors, as indexes [lo, hi).
  const lo = args.after != null ? indexOf(args.after) + 1 : 0;
  const hi = Math.max(lo, args.before != null ? indexOf(args.before) : all.length);
  const [from, to] = backward ? [Math.max(lo, hi - size), hi] : [lo, Math.min(hi, lo + size)];
  const more = backward ? from > lo : to < hi;
  const edges = all.slice(from, to).map((node) => ({ cursor: cursorOf(node), node }));
  if (backward && options.reverseBackward) edges.reverse();
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: backward ? args.before != null : more || args.before != null,
      hasPreviousPage: backward ? more || args.after != null : args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
    // Resolved (and counted) only when the document selects it.
    totalCount: () => {
      counted[list] = (counted[list] ?? 0) + 1;
      return options.totalCount ?? all.length;
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const rootValue = {
  incidents: (args: PageArgs) =>
    connection(
      'incidents',
      range(fake.incidents).map((i) => ({
        id: `inc-${i}`,
        category: { code: 'anti-social-behaviour', label: 'Anti-social behaviour' },
        occurredAt: '2014-04-01T10:00:00Z',
        area: i % 3 === 0 ? null : { code: 'bedwell', name: 'Bedwell' },
        status: 'ACTIVE',
        hateStrands: i % 5 === 0 ? [{ code: 'race', label: 'Race' }] : [],
      })),
      args,
    ),
  cases: (args: PageArgs) => {
    if (fake.forbidCases) {
      throw new GraphQLError('needs the caseworker capability', { extensions: { code: 'FORBIDDEN' } });
    }
    const all = range(fake.cases).map((i) => ({
      id: `case-${i}`,
      ref: `ASB-2015-${String(i + 1).padStart(4, '0')}`,
      caseType: 'ASB',
      status: 'OPEN',
      riskLevel: 'STANDARD',
      openedOn: '2015-01-05',
      odgDates: ['2015-02-01'],
    }));
    return connection('cases', all, args, {
      totalCount: fake.lieAboutCases ? all.length + 1 : all.length,
      reverseBackward: fake.reverseBackwardCases,
    });
  },
  reportSubmissions: (args: PageArgs) =>
    connection(
      'reportSubmissions',
      [{ id: 'sub-1', kind: 'RAG_UPDATE', submittedAt: '2015-04-20T09:00:00Z', parameters: { quarter: '2014/15 Q3' } }],
      args,
    ),
  plans: (args: PageArgs) =>
    connection(
      'plans',
      range(fake.plans).map((i) => ({
        id: `plan-${i}`,
        partnership: 'stevenage',
        financialYear: `${2014 + i}/${15 + i}`,
        title: 'Community safety plan',
        status: 'DRAFT',
        signedOffOn: null,
        createdAt: '2014-03-01T00:00:00Z',
      })),
      args,
    ),
};

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => {
    const request = JSON.parse(body) as {
      query: string;
      variables?: Record<string, unknown>;
      operationName?: string;
    };
    requests.push(request);
    if (req.headers.authorization !== 'Bearer test-token') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'no token', extensions: { code: 'UNAUTHENTICATED' } }] }));
      return;
    }
    void graphql({
      schema,
      source: request.query,
      rootValue,
      variableValues: request.variables ?? null,
      operationName: request.operationName ?? null,
    }).then((result) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    });
  });
});

let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
after(() => server.close());

function reset(changes: Partial<typeof fake> = {}) {
  Object.assign(fake, defaults, changes);
  requests = [];
  counted = {};
}

const client = () => createClient({ url, token: 'test-token' });
const cursor = (id: string) => Buffer.from(`key:${id}`).toString('base64url');
const ids = (all: All<{ id: string }>) => all.items.map((n) => n.id);
const pagesOf = (operation: string) =>
  requests.filter((r) => r.operationName === operation).map((r) => r.variables ?? {});

test('pages both ways through incidents and cases, forwards through the rest, and the counts agree', async () => {
  reset();
  const lines: string[] = [];
  assert.equal(await check(client(), (l) => lines.push(l)), true, lines.join('\n'));
  assert.deepEqual(lines.slice(0, 3), [
    'ok: incidents: 250 forwards in 3 page(s), 250 backwards in 3 page(s), totalCount 250; ' +
      'same ids in the same order both ways, ids and cursors distinct',
    'ok: cases: 7 forwards in 1 page(s), 7 backwards in 1 page(s), totalCount 7; ' +
      'same ids in the same order both ways, ids and cursors distinct',
    'ok: report submissions: 1 read in 1 page(s), totalCount 1, 1 distinct ids',
  ]);
  assert.match(lines[3] ?? '', /^ok: plans: 3 \(/);
  // Forwards: first/after from the start; backwards: last/before from the end. Only the page
  // each starts from asks for totalCount (withTotal), so only those are counted.
  assert.deepEqual(
    pagesOf('IncidentsPage').map((v) => [v['first'], v['after'], v['last'], v['before'], v['withTotal']]),
    [
      [100, null, undefined, undefined, true],
      [100, cursor('inc-99'), undefined, undefined, false],
      [100, cursor('inc-199'), undefined, undefined, false],
      [undefined, undefined, 100, null, true],
      [undefined, undefined, 100, cursor('inc-150'), false],
      [undefined, undefined, 100, cursor('inc-50'), false],
    ],
  );
  assert.deepEqual(counted, { incidents: 2, cases: 2, reportSubmissions: 1 });
});

test('backwards, the pages are put back in the list order', async () => {
  reset();
  const forwards = await allIncidents(client());
  const backwards = await allIncidents(client(), { direction: 'backwards' });
  assert.deepEqual(ids(backwards), ids(forwards));
  assert.deepEqual(backwards.cursors, forwards.cursors);
  assert.deepEqual(ids(backwards).slice(0, 2), ['inc-0', 'inc-1']);
  // Small pages: 7 cases, 3 a page, from the end: [4 5 6], [1 2 3], [0].
  const cases = await allCases(client(), { direction: 'backwards', pageSize: 3 });
  assert.deepEqual(ids(cases), range(7).map((i) => `case-${i}`));
  assert.deepEqual([cases.pages, cases.totalCount], [3, 7]);
  assert.deepEqual(
    pagesOf('CasesPage').map((v) => [v['last'], v['before']]),
    [
      [3, null],
      [3, cursor('case-4')],
      [3, cursor('case-1')],
    ],
  );
});

test('last alone is the list last items, in the list order', async () => {
  reset();
  const { incidents } = await client()(IncidentsPageDocument, { last: 3, withTotal: true });
  assert.deepEqual(
    incidents.edges.map((e) => e.node.id),
    ['inc-247', 'inc-248', 'inc-249'],
  );
  assert.deepEqual(incidents.pageInfo, {
    hasNextPage: false,
    hasPreviousPage: true,
    startCursor: cursor('inc-247'),
    endCursor: cursor('inc-249'),
  });
  assert.equal(incidents.totalCount, 250);
  assert.deepEqual(counted, { incidents: 1 });
});

test('a middle page: last before a startCursor', async () => {
  reset();
  const c = client();
  const end = (await c(IncidentsPageDocument, { last: 3, withTotal: false })).incidents;
  const middle = (await c(IncidentsPageDocument, { last: 3, before: end.pageInfo.startCursor, withTotal: false }))
    .incidents;
  assert.deepEqual(
    middle.edges.map((e) => e.node.id),
    ['inc-244', 'inc-245', 'inc-246'],
  );
  assert.deepEqual(middle.pageInfo, {
    hasNextPage: true, // before was given
    hasPreviousPage: true,
    startCursor: cursor('inc-244'),
    endCursor: cursor('inc-246'),
  });
  // The same page forwards from the cursor before it.
  const again = (await c(IncidentsPageDocument, { first: 3, after: cursor('inc-243'), withTotal: false })).incidents;
  assert.deepEqual(again.edges, middle.edges);
  assert.equal(again.pageInfo.hasPreviousPage, true); // after was given
  assert.equal(again.totalCount, undefined); // not selected (withTotal: false), not counted
  assert.deepEqual(counted, {});
  // Both bounds: what lies between.
  const between = (
    await c(IncidentsPageDocument, { first: 100, after: cursor('inc-244'), before: cursor('inc-247'), withTotal: false })
  ).incidents;
  assert.deepEqual(
    between.edges.map((e) => e.node.id),
    ['inc-245', 'inc-246'],
  );
});

test('first and last together is BAD_USER_INPUT', async () => {
  reset();
  await assert.rejects(client()(IncidentsPageDocument, { first: 1, last: 1, withTotal: false }), (e: unknown) => {
    assert.ok(e instanceof GraphQLRequestError);
    assert.equal(e.errors[0]?.extensions?.code, 'BAD_USER_INPUT');
    return true;
  });
});

test('an empty list is one page both ways', async () => {
  reset({ incidents: 0 });
  for (const direction of ['forwards', 'backwards'] as const) {
    const all = await allIncidents(client(), { direction });
    assert.deepEqual([all.items.length, all.cursors.length, all.totalCount, all.pages], [0, 0, 0, 1], direction);
  }
});

test('a totalCount that differs from what was read fails the check', async () => {
  reset({ lieAboutCases: true });
  const lines: string[] = [];
  assert.equal(await check(client(), (l) => lines.push(l)), false);
  assert.ok(
    lines.includes(
      'FAILED: cases: 7 forwards in 1 page(s), 7 backwards in 1 page(s), totalCount 8; ' +
        'forwards: 7 read, totalCount 8; backwards: 7 read, totalCount 8',
    ),
    lines.join('\n'),
  );
});

test('backward pages in the wrong order fail the check', async () => {
  reset({ reverseBackwardCases: true });
  const lines: string[] = [];
  assert.equal(await check(client(), (l) => lines.push(l)), false);
  assert.ok(
    lines.some((l) => l.startsWith('FAILED: cases: ') && l.endsWith('the two ways differ at item 1: case-0 forwards, case-6 backwards')),
    lines.join('\n'),
  );
});

test('repeated ids and cursors, and a missing totalCount, are problems', () => {
  const all = (items: string[], cursors: string[], totalCount: number | null): All<{ id: string }> => ({
    items: items.map((id) => ({ id })),
    cursors,
    totalCount,
    pages: 1,
  });
  assert.deepEqual(bothWaysProblems(all(['a', 'b'], ['1', '2'], 2), all(['a', 'b'], ['1', '2'], 2)), []);
  assert.deepEqual(bothWaysProblems(all(['a', 'a'], ['1', '1'], 2), all(['a', 'b'], ['1', '2'], null)), [
    'forwards: 1 repeated id(s)',
    'forwards: 1 repeated cursor(s)',
    'backwards: no totalCount',
    'the two ways differ at item 2: a forwards, b backwards',
  ]);
  assert.deepEqual(bothWaysProblems(all(['a', 'b'], ['1', '2'], 2), all(['a'], ['1'], 2)), [
    'backwards: 1 read, totalCount 2',
    'the two ways differ at item 2: b forwards, none backwards',
  ]);
});

test('a page that says there is more but gives no new cursor stops the paging', async () => {
  const stuck = { edges: [{ cursor: 'c', node: { id: 'a' } }] };
  await assert.rejects(
    pageForwards(async () => ({ ...stuck, pageInfo: { hasNextPage: true, endCursor: 'c' } })),
    /page 2 says there is a next page but gives no new cursor/,
  );
  await assert.rejects(
    pageBackwards(async () => ({ ...stuck, pageInfo: { hasPreviousPage: true, startCursor: 'c' } })),
    /page 2 says there is a previous page but gives no new cursor/,
  );
  await assert.rejects(
    pageBackwards(async () => ({ ...stuck, pageInfo: { hasPreviousPage: false, startCursor: 'other' } })),
    /page 1: startCursor is not the cursor of its first edge/,
  );
});

test('a GraphQL error is thrown with its code', async () => {
  reset({ forbidCases: true });
  await assert.rejects(check(client(), () => {}), (e: unknown) => {
    assert.ok(e instanceof GraphQLRequestError);
    assert.equal(e.operation, 'CasesPage');
    assert.equal(e.errors[0]?.extensions?.code, 'FORBIDDEN');
    return true;
  });
});

test('an HTTP error with a GraphQL body is thrown too', async () => {
  reset();
  await assert.rejects(allIncidents(createClient({ url, token: 'wrong' })), /UNAUTHENTICATED: no token \(HTTP 401\)/);
});
