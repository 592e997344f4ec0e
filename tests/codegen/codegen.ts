// graphql-codegen config: TypeScript types for the operations in operations/*.graphql, from
// the repository's schema.graphql (CSPHUB_SCHEMA may point at another copy, for testing).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: process.env.CSPHUB_SCHEMA ?? '../../schema.graphql',
  documents: 'operations/*.graphql',
  generates: {
    'src/generated/graphql.ts': {
      // typescript-operations 6 works by itself: only the enums and inputs the operations
      // use, and each operation's result and variables. typed-document-node adds each
      // operation's text as a string typed with both.
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // An unmapped scalar fails the generation instead of becoming `any`.
        strictScalars: true,
        scalars: {
          Date: 'string', // YYYY-MM-DD
          DateTime: 'string', // RFC 3339 in UTC, ending in Z
          JSON: '../json-value.js#JsonValue',
        },
        enumType: 'string-literal',
        documentMode: 'string',
        useTypeImports: true,
      },
    },
  },
};

export default config;
