/** Any JSON value: what the schema's `JSON` scalar carries. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
