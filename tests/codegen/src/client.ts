// A small typed csphub client on plain `fetch`, with the types graphql-codegen generated from
// schema.graphql and operations/*.graphql (docs/codegen.md). Run as a program, it pages through
// every incident and case the token may read forwards (`first`/`after`) and backwards
// (`last`/`before`), pages through the submitted reports, lists the plans, prints the counts,
// and exits non-zero on any GraphQL error or unless, for incidents and cases, both ways give
// the same ids in the same order, no id repeats, the count is `totalCount` and every edge's
// cursor is distinct.
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

/** An item of a page with its cursor (Relay's edge). */
export interface Edge<TNode> {
  cursor: string;
  node: TNode;
}

/** What paging forwards reads of `pageInfo`. */
export interface ForwardPageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

/** What paging backwards reads of `pageInfo`. */
export interface BackwardPageInfo {
  hasPreviousPage: boolean;
  startCursor: string | null;
}

/**
 * A page of a Relay connection as an operation selected it: `edges { cursor node }`, or only
 * `nodes` where the cursors are not needed (the paging cursors are in `pageInfo` either way),
 * and `totalCount` on the pages that selected it. The generated result types fit it as they
 * are, so a selection change touches only the operation.
 */
export type Page<TNode, TPageInfo> = {
  pageInfo: TPageInfo;
  totalCount?: number;
} & ({ edges: readonly Edge<TNode>[] } | { nodes: readonly TNode[] });

export interface All<TNode> {
  /** Every item, in the list's order (whichever way it was paged). */
  items: TNode[];
  /** Each item's cursor, in the same order; empty when the pages selected only `nodes`. */
  cursors: string[];
  /** totalCount as the first page that selected it gave it; null when none did. */
  totalCount: number | null;
  pages: number;
}

/** A page's items and, when it selected edges, their cursors. */
function contents<TNode>(page: Page<TNode, unknown>): { nodes: readonly TNode[]; cursors: readonly string[] } {
  return 'edges' in page
    ? { nodes: page.edges.map((e) => e.node), cursors: page.edges.map((e) => e.cursor) }
    : { nodes: page.nodes, cursors: [] };
}

/**
 * Forwards from the start: calls `page` with `after` = null, then the previous page's
 * `endCursor` while `hasNextPage`. Throws if a page says there is more but gives no new cursor,
 * or (with edges) if `endCursor` is not its last edge's cursor.
 */
export async function pageForwards<TNode>(
  page: (after: string | null) => Promise<Page<TNode, ForwardPageInfo>>,
): Promise<All<TNode>> {
  const items: TNode[] = [];
  const cursors: string[] = [];
  const seen = new Set<string>();
  let totalCount: number | null = null;
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const p = await page(after);
    pages += 1;
    totalCount ??= p.totalCount ?? null;
    const c = contents(p);
    items.push(...c.nodes);
    cursors.push(...c.cursors);
    const end = p.pageInfo.endCursor;
    if ('edges' in p && p.edges.length > 0 && p.edges[p.edges.length - 1]?.cursor !== end) {
      throw new Error(`page ${pages}: endCursor is not the cursor of its last edge`);
    }
    if (!p.pageInfo.hasNextPage) {
      return { items, cursors, totalCount, pages };
    }
    if (end === null || c.nodes.length === 0 || seen.has(end)) {
      throw new Error(`page ${pages} says there is a next page but gives no new cursor`);
    }
    seen.add(end);
    after = end;
  }
}

/**
 * Backwards from the end: calls `page` with `before` = null (meaning `last` alone: the list's
 * last items), then the previous page's `startCursor` while `hasPreviousPage`, and puts the
 * pages back in the list's order (each page already is). Throws as `pageForwards` does.
 */
export async function pageBackwards<TNode>(
  page: (before: string | null) => Promise<Page<TNode, BackwardPageInfo>>,
): Promise<All<TNode>> {
  const read: { nodes: readonly TNode[]; cursors: readonly string[] }[] = [];
  const seen = new Set<string>();
  let totalCount: number | null = null;
  let before: string | null = null;
  let pages = 0;
  for (;;) {
    const p = await page(before);
    pages += 1;
    totalCount ??= p.totalCount ?? null;
    const c = contents(p);
    read.push(c);
    const start = p.pageInfo.startCursor;
    if ('edges' in p && p.edges.length > 0 && p.edges[0]?.cursor !== start) {
      throw new Error(`page ${pages}: startCursor is not the cursor of its first edge`);
    }
    if (!p.pageInfo.hasPreviousPage) {
      break;
    }
    if (start === null || c.nodes.length === 0 || seen.has(start)) {
      throw new Error(`page ${pages} says there is a previous page but gives no new cursor`);
    }
    seen.add(start);
    before = start;
  }
  read.reverse();
  return {
    items: read.flatMap((c) => c.nodes),
    cursors: read.flatMap((c) => c.cursors),
    totalCount,
    pages,
  };
}

export type IncidentNode = IncidentsPageQuery['incidents']['edges'][number]['node'];
export type CaseNode = CasesPageQuery['cases']['edges'][number]['node'];
export type SubmissionNode = ReportSubmissionsPageQuery['reportSubmissions']['nodes'][number];
export type PlanItem = PlansQuery['plans']['nodes'][number];

/** Page size: the server takes 1 to 100 (default 50). */
const PAGE = 100;

/** How to read a whole connection. */
export interface ListOptions<TFilter> {
  filter?: TFilter;
  /** Forwards from the start (the default) or backwards from the end. */
  direction?: 'forwards' | 'backwards';
  /** Items per page, 1 to 100 (100 by default). */
  pageSize?: number;
}

/**
 * The variables of one page: `first`/`after` forwards, `last`/`before` backwards (never both
 * `first` and `last`: BAD_USER_INPUT), and `withTotal` on the page it starts from only (no
 * cursor yet): csphub counts the whole list for every page that selects `totalCount`.
 */
function pageVariables(options: ListOptions<unknown>, cursor: string | null) {
  const size = options.pageSize ?? PAGE;
  const withTotal = cursor === null;
  return options.direction === 'backwards'
    ? { last: size, before: cursor, withTotal }
    : { first: size, after: cursor, withTotal };
}

/** Pages through a whole connection one way or the other. */
function pageAll<TNode>(
  options: ListOptions<unknown>,
  page: (cursor: string | null) => Promise<Page<TNode, ForwardPageInfo & BackwardPageInfo>>,
): Promise<All<TNode>> {
  return options.direction === 'backwards' ? pageBackwards(page) : pageForwards(page);
}

/** Every incident the token may read (oldest first), optionally filtered. */
export function allIncidents(
  client: Client,
  options: ListOptions<IncidentFilterInput> = {},
): Promise<All<IncidentNode>> {
  const filter = options.filter ?? {};
  return pageAll(options, async (cursor) => {
    const data = await client(IncidentsPageDocument, { ...pageVariables(options, cursor), filter });
    return data.incidents;
  });
}

/** Every case shared with the token's agency (newest first). Needs a caseworker token. */
export function allCases(client: Client, options: ListOptions<CaseFilterInput> = {}): Promise<All<CaseNode>> {
  const filter = options.filter ?? {};
  return pageAll(options, async (cursor) => {
    const data = await client(CasesPageDocument, { ...pageVariables(options, cursor), filter });
    return data.cases;
  });
}

/** Every submitted report the token may read (newest first): forwards, `nodes` only. */
export function allSubmissions(client: Client): Promise<All<SubmissionNode>> {
  return pageForwards(async (after) => {
    const data = await client(ReportSubmissionsPageDocument, { first: PAGE, after });
    return data.reportSubmissions;
  });
}

/** Every plan in scope, by partnership and financial year: forwards, `nodes` only. */
export async function allPlans(client: Client, partnership?: string): Promise<PlanItem[]> {
  const all = await pageForwards(async (after) => {
    const data = await client(PlansDocument, { partnership: partnership ?? null, first: PAGE, after });
    return data.plans;
  });
  return all.items;
}

/**
 * What is wrong with a list read both ways: each way must have no repeated id, as many items
 * as its totalCount and a distinct cursor on every item; both must give the same ids in the
 * same order. Empty when nothing is.
 */
export function bothWaysProblems<TNode extends { id: string }>(
  forwards: All<TNode>,
  backwards: All<TNode>,
): string[] {
  const problems: string[] = [];
  const ids = { forwards: forwards.items.map((n) => n.id), backwards: backwards.items.map((n) => n.id) };
  for (const [way, all] of [
    ['forwards', forwards],
    ['backwards', backwards],
  ] as const) {
    const read = ids[way];
    const repeated = read.length - new Set(read).size;
    if (repeated > 0) problems.push(`${way}: ${repeated} repeated id(s)`);
    if (all.totalCount === null) problems.push(`${way}: no totalCount`);
    else if (read.length !== all.totalCount) problems.push(`${way}: ${read.length} read, totalCount ${all.totalCount}`);
    if (all.cursors.length !== read.length) {
      problems.push(`${way}: ${all.cursors.length} cursor(s) for ${read.length} item(s)`);
    }
    const sameCursor = all.cursors.length - new Set(all.cursors).size;
    if (sameCursor > 0) problems.push(`${way}: ${sameCursor} repeated cursor(s)`);
  }
  const at = ids.forwards.findIndex((id, i) => id !== ids.backwards[i]);
  if (at >= 0 || ids.forwards.length !== ids.backwards.length) {
    const i = at >= 0 ? at : ids.forwards.length;
    problems.push(
      `the two ways differ at item ${i + 1}: ${ids.forwards[i] ?? 'none'} forwards, ` +
        `${ids.backwards[i] ?? 'none'} backwards`,
    );
  }
  return problems;
}

/** Prints a list read both ways; false if `bothWaysProblems` finds anything. */
function reportBothWays<TNode extends { id: string }>(
  log: (line: string) => void,
  name: string,
  forwards: All<TNode>,
  backwards: All<TNode>,
): boolean {
  const problems = bothWaysProblems(forwards, backwards);
  const total =
    forwards.totalCount === backwards.totalCount
      ? `${forwards.totalCount}`
      : `${forwards.totalCount} forwards, ${backwards.totalCount} backwards`;
  const counts =
    `${forwards.items.length} forwards in ${forwards.pages} page(s), ` +
    `${backwards.items.length} backwards in ${backwards.pages} page(s), totalCount ${total}`;
  log(
    problems.length === 0
      ? `ok: ${name}: ${counts}; same ids in the same order both ways, ids and cursors distinct`
      : `FAILED: ${name}: ${counts}; ${problems.join('; ')}`,
  );
  return problems.length === 0;
}

/** Prints a list read forwards; false if its length is not its totalCount or an id repeats. */
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
 * Pages through incidents and cases forwards and backwards, through report submissions
 * forwards, and lists the plans, printing the counts; false if any check above fails. Throws
 * GraphQLRequestError on any GraphQL error, and Error when a page gives no cursor to go on.
 */
export async function check(client: Client, log: (line: string) => void = console.log): Promise<boolean> {
  let ok = true;
  ok =
    reportBothWays(
      log,
      'incidents',
      await allIncidents(client),
      await allIncidents(client, { direction: 'backwards' }),
    ) && ok;
  ok =
    reportBothWays(log, 'cases', await allCases(client), await allCases(client, { direction: 'backwards' })) && ok;
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
