// The stack's settings: the schema (schema.ts: every key once, the types derived from it) and its parser (parse.ts).
export * from "./schema";
export * from "./parse";
export { suggest } from "./suggest";
