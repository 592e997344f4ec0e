// A small typed csphub client on plain `fetch`, with the types graphql-codegen generated from
// schema.graphql and operations/*.graphql (docs/codegen.md). Run as a program, it pages through
// every incident, case and submitted report the token may read, lists the plans, prints the
// counts, and exits non-zero on any GraphQL error or if a list's length differs from its
// totalCount.
//
//   CSPHUB_URL=http://127.0.0.1:8080/graphql CSPHUB_TOKEN=... node dist/client.js

import { pathToFileURL } from 'node:url';

import {
  CasesPageDocument,
  IncidentsPageDocument,
  PlansDocument,
  ReportSubmissionsPageDocument,
} from './generated/graphql.js';
import type {
  CaseFilterInput,
  CasesPageQuery,
  IncidentFilterInput,
  IncidentsPageQuery,
  PlansQuery,
  ReportSubmissionsPageQuery,
  TypedDocumentString,
} from './generated/graphql.js';

/** An error as csphub sends it: every one has `extensions.code` (BAD_USER_INPUT, FORBIDDEN...). */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; [key: string]: unknown };
}

/** A response that carried GraphQL errors (or no data). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errors: GraphQLErrorBody[],
  ) {
    super(
      `${operation}: ${errors
        .map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`)
        .join('; ')} (HTTP ${status})`,
    );
  }
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:8080/graphql */
  url: string;
  /** A bearer token (JWT). */
  token: string;
  /** Another fetch, e.g. one with a timeout; the global one by default. */
  fetch?: typeof fetch;
}

export type Client = <TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
) => Promise<TResult>;

/** One POST per call; throws GraphQLRequestError on any error, partial data included. */
export function createClient(options: ClientOptions): Client {
  const doFetch = options.fetch ?? fetch;
  return async function request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
  ): Promise<TResult> {
    const query = document.toString();
    const operation = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? 'request';
    const response = await doFetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
      },
      body: JSON.stringify({ query, variables, operationName: operation }),
    });
    const text = await response.text();
    let body: { data?: unknown; errors?: GraphQLErrorBody[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new GraphQLRequestError(operation, response.status, [
        { message: `not a JSON response: ${text.slice(0, 200)}` },
      ]);
    }
    if (body.errors !== undefined && body.errors.length > 0) {
      throw new GraphQLRequestError(operation, response.status, body.errors);
    }
    if (body.data === undefined || body.data === null) {
      throw new GraphQLRequestError(operation, response.status, [{ message: 'no data' }]);
    }
    // The one unchecked step: the server answers the document it was sent.
    return body.data as TResult;
  };
}

/**
 * What forward paging needs from a page. Today's connections have exactly this shape
 * (`nodes`, `pageInfo { hasNextPage endCursor }`, `totalCount`); when they become Relay
 * connections, each `all*` function below maps `edges[].node` to `nodes` and nothing else
 * changes.
 */
export interface Page<TNode> {
  nodes: TNode[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export interface All<TNode> {
  items: TNode[];
  /** totalCount as the last page gave it. */
  totalCount: number;
  pages: number;
}

/** Calls `page` with `after` = the previous page's endCursor while hasNextPage. */
export async function pageForwards<TNode>(
  page: (after: string | null) => Promise<Page<TNode>>,
): Promise<All<TNode>> {
  const items: TNode[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const p = await page(after);
    pages += 1;
    items.push(...p.nodes);
    if (!p.pageInfo.hasNextPage) {
      return { items, totalCount: p.totalCount, pages };
    }
    if (p.pageInfo.endCursor === null || p.pageInfo.endCursor === after || p.nodes.length === 0) {
      throw new Error(`page ${pages} says there is a next page but gives no new cursor`);
    }
    after = p.pageInfo.endCursor;
  }
}

export type IncidentNode = IncidentsPageQuery['incidents']['nodes'][number];
export type CaseNode = CasesPageQuery['cases']['nodes'][number];
export type SubmissionNode = ReportSubmissionsPageQuery['reportSubmissions']['nodes'][number];
export type PlanItem = PlansQuery['plans'][number];

/** Page size: the server takes 1 to 100 (default 50). */
const PAGE = 100;

/** Every incident the token may read (oldest first), optionally filtered. */
export function allIncidents(
  client: Client,
  filter: IncidentFilterInput = {},
): Promise<All<IncidentNode>> {
  return pageForwards(async (after) => {
    const data = await client(IncidentsPageDocument, { first: PAGE, after, filter });
    return data.incidents;
  });
}

/** Every case shared with the token's agency (newest first). Needs a caseworker token. */
export function allCases(client: Client, filter: CaseFilterInput = {}): Promise<All<CaseNode>> {
  return pageForwards(async (after) => {
    const data = await client(CasesPageDocument, { first: PAGE, after, filter });
    return data.cases;
  });
}

/** Every submitted report the token may read (newest first). */
export function allSubmissions(client: Client): Promise<All<SubmissionNode>> {
  return pageForwards(async (after) => {
    const data = await client(ReportSubmissionsPageDocument, { first: PAGE, after });
    return data.reportSubmissions;
  });
}

/** Every plan in scope: `plans` is a plain list paged by first/offset. */
export async function allPlans(client: Client, partnership?: string): Promise<PlanItem[]> {
  const plans: PlanItem[] = [];
  for (;;) {
    const data = await client(PlansDocument, {
      partnership: partnership ?? null,
      first: PAGE,
      offset: plans.length,
    });
    plans.push(...data.plans);
    if (data.plans.length < PAGE) {
      return plans;
    }
  }
}

/** Prints one list's counts; false if they disagree or an id repeats. */
function report<TNode extends { id: string }>(
  log: (line: string) => void,
  name: string,
  all: All<TNode>,
): boolean {
  const distinct = new Set(all.items.map((n) => n.id)).size;
  const ok = all.items.length === all.totalCount && distinct === all.items.length;
  log(
    `${ok ? 'ok' : 'FAILED'}: ${name}: ${all.items.length} read in ${all.pages} page(s), ` +
      `totalCount ${all.totalCount}, ${distinct} distinct ids`,
  );
  return ok;
}

/**
 * Pages through incidents, cases and report submissions and lists the plans, printing the
 * counts; false if any list's length differs from its totalCount or an id repeats. Throws
 * GraphQLRequestError on any GraphQL error.
 */
export async function check(client: Client, log: (line: string) => void = console.log): Promise<boolean> {
  let ok = true;
  ok = report(log, 'incidents', await allIncidents(client)) && ok;
  ok = report(log, 'cases', await allCases(client)) && ok;
  ok = report(log, 'report submissions', await allSubmissions(client)) && ok;
  const plans = await allPlans(client);
  const some = plans.slice(0, 3).map((p) => `${p.partnership} ${p.financialYear} ${p.status}`);
  log(`ok: plans: ${plans.length}${some.length > 0 ? ` (${some.join(', ')}${plans.length > 3 ? ', ...' : ''})` : ''}`);
  return ok;
}

async function main(): Promise<number> {
  const url = process.env['CSPHUB_URL'];
  const token = process.env['CSPHUB_TOKEN'];
  if (!url || !token) {
    console.error('usage: CSPHUB_URL=http://127.0.0.1:8080/graphql CSPHUB_TOKEN=<jwt> node dist/client.js');
    return 2;
  }
  return (await check(createClient({ url, token }))) ? 0 : 1;
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(invoked).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      console.error(`FAILED: ${error instanceof Error ? error.message : String(error)}${cause}`);
      process.exit(1);
    },
  );
}
