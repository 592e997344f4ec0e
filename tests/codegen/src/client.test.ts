// The client against a fake csphub: graphql-js executes the generated documents against the
// same schema file codegen read, with made-up data, on 127.0.0.1. It checks the paging and the
// checks, not the real server (`run live` does that).
//
//   node --test dist/client.test.js

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildSchema, graphql, GraphQLError } from 'graphql';

import { allIncidents, check, createClient, GraphQLRequestError } from './client.js';
import type { CaseNode, IncidentNode, PlanItem, SubmissionNode } from './client.js';
import type { JsonValue } from './json-value.js';

// The scalars' and enums' generated types, checked by tsc: `any` or `unknown` would fail here.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const scalarTypes: [
  Equal<IncidentNode['occurredAt'], string>, // DateTime
  Equal<IncidentNode['area'], string | null>,
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
const fake = { incidents: 250, cases: 7, plans: 3, lieAboutCases: false, forbidCases: false };
let requests: { operationName?: string; variables?: Record<string, unknown> }[] = [];

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

function page<T>(all: T[], args: PageArgs, totalCount = all.length) {
  const first = args.first ?? 50;
  if (first < 1 || first > 100) {
    throw new GraphQLError(`first must be between 1 and 100, not ${first}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  const start = args.after ? Number(Buffer.from(args.after, 'base64url').toString()) : 0;
  const nodes = all.slice(start, start + first);
  const end = start + nodes.length;
  return {
    nodes,
    totalCount,
    pageInfo: {
      hasNextPage: end < all.length,
      endCursor: nodes.length > 0 ? Buffer.from(String(end)).toString('base64url') : null,
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const rootValue = {
  incidents: (args: PageArgs) =>
    page(
      range(fake.incidents).map((i) => ({
        id: `inc-${i}`,
        category: 'asb',
        occurredAt: '2014-04-01T10:00:00Z',
        area: i % 3 === 0 ? null : 'E05005050',
        status: 'ACTIVE',
        hateStrands: [],
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
    return page(all, args, fake.lieAboutCases ? all.length + 1 : all.length);
  },
  reportSubmissions: (args: PageArgs) =>
    page(
      [{ id: 'sub-1', kind: 'RAG_UPDATE', submittedAt: '2015-04-20T09:00:00Z', parameters: { quarter: '2014/15 Q3' } }],
      args,
    ),
  plans: (args: { first?: number | null; offset?: number | null }) =>
    range(fake.plans)
      .map((i) => ({
        id: `plan-${i}`,
        partnership: 'stevenage',
        financialYear: `${2014 + i}/${15 + i}`,
        title: 'Community safety plan',
        status: 'DRAFT',
        signedOffOn: null,
        createdAt: '2014-03-01T00:00:00Z',
      }))
      .slice(args.offset ?? 0, (args.offset ?? 0) + (args.first ?? 50)),
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
  Object.assign(fake, { incidents: 250, cases: 7, plans: 3, lieAboutCases: false, forbidCases: false }, changes);
  requests = [];
}

test('pages forwards through every list and the counts agree', async () => {
  reset();
  const lines: string[] = [];
  assert.equal(await check(createClient({ url, token: 'test-token' }), (l) => lines.push(l)), true);
  assert.deepEqual(lines.slice(0, 3), [
    'ok: incidents: 250 read in 3 page(s), totalCount 250, 250 distinct ids',
    'ok: cases: 7 read in 1 page(s), totalCount 7, 7 distinct ids',
    'ok: report submissions: 1 read in 1 page(s), totalCount 1, 1 distinct ids',
  ]);
  assert.match(lines[3] ?? '', /^ok: plans: 3 \(/);
  const incidentPages = requests.filter((r) => r.operationName === 'IncidentsPage');
  assert.deepEqual(
    incidentPages.map((r) => r.variables?.['after']),
    [null, Buffer.from('100').toString('base64url'), Buffer.from('200').toString('base64url')],
  );
});

test('an empty list is one page', async () => {
  reset({ incidents: 0 });
  const all = await allIncidents(createClient({ url, token: 'test-token' }));
  assert.deepEqual([all.items.length, all.totalCount, all.pages], [0, 0, 1]);
});

test('a totalCount that differs from what was read fails the check', async () => {
  reset({ lieAboutCases: true });
  const lines: string[] = [];
  assert.equal(await check(createClient({ url, token: 'test-token' }), (l) => lines.push(l)), false);
  assert.ok(lines.includes('FAILED: cases: 7 read in 1 page(s), totalCount 8, 7 distinct ids'), lines.join('\n'));
});

test('a GraphQL error is thrown with its code', async () => {
  reset({ forbidCases: true });
  await assert.rejects(check(createClient({ url, token: 'test-token' }), () => {}), (e: unknown) => {
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
