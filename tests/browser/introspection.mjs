// graphql-js, as GraphiQL, graphql-codegen and Apollo use it, sends its full introspection query
// (every option on) to a live csphub and builds the schema from the answer; the schema it builds
// must be the published schema.graphql.
// Usage: node introspection.mjs URL TOKEN SCHEMA_FILE
import { readFileSync } from 'node:fs';
import {
  buildClientSchema, buildSchema, getIntrospectionQuery, lexicographicSortSchema, printSchema,
} from 'graphql';

const [url, token, schemaFile] = process.argv.slice(2);
const query = getIntrospectionQuery({
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
  schemaDescription: true, inputValueDeprecation: true, oneOf: true,
});
const res = await fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  body: JSON.stringify({ query }),
});
const body = await res.json();
if (res.status !== 200 || body.errors) {
  console.error('introspection refused:', res.status, JSON.stringify(body).slice(0, 500));
  process.exit(1);
}
// async-graphql answers __schema.description with graphql's stock text and @specifiedBy on
// DateTime, neither of which its SDL export prints: compare the types, fields and arguments.
const print = (schema) => printSchema(schema)
  .replace(/^"""[\s\S]*?"""\nschema \{[^}]*\}\n\n/, '')
  .replace(/ @specifiedBy\(url: "[^"]*"\)/g, '');
const built = lexicographicSortSchema(buildClientSchema(body.data));
const published = lexicographicSortSchema(buildSchema(readFileSync(schemaFile, 'utf8')));
if (print(built) !== print(published)) {
  console.error('the schema built from introspection differs from', schemaFile);
  process.exit(1);
}
const types = Object.keys(built.getTypeMap()).filter((t) => !t.startsWith('__')).length;
console.log(`introspection: graphql-js built the schema (${types} types), equal to ${schemaFile}`);
