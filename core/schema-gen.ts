// Generates the DuckDB DDL and JSON Schema from the record contract (schema.ts). Run with
// --write to refresh core/generated/; test/core/schema.test.ts fails when they drift.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Field, type TableDef, tables } from './schema.ts';

export const GENERATED_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'generated');

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export function columnSql(name: string, f: Field): string {
  return `${name} ${f.type}${f.nullable ? '' : ' NOT NULL'}`;
}

export function ddlFor(t: TableDef): string {
  const cols = Object.entries(t.fields).map(([n, f]) => `  ${columnSql(n, f)}`);
  const checks = Object.entries(t.fields)
    .filter(([, f]) => f.enum)
    .map(([n, f]) => `  CHECK (${n} IN (${f.enum!.map(sqlString).join(', ')}))`);
  const comments = Object.entries(t.fields).map(([n, f]) => `COMMENT ON COLUMN ${t.name}.${n} IS ${sqlString(f.doc)};`);
  return [
    `-- ${t.name}: ${t.doc} (raw: ${t.raw})`,
    `CREATE TABLE ${t.name} (\n${[...cols, ...checks].join(',\n')}\n);`,
    `COMMENT ON TABLE ${t.name} IS ${sqlString(t.doc)};`,
    ...comments,
  ].join('\n');
}

export function ddl(): string {
  return (
    '-- Generated from core/schema.ts by `npm run gen:schema`. Do not edit.\n\n' +
    Object.values(tables).map((t) => ddlFor(t)).join('\n\n') +
    '\n'
  );
}

function jsonType(f: Field): object {
  const base = (() => {
    switch (f.type) {
      case 'VARCHAR':
        return f.enum ? { type: 'string', enum: [...f.enum] } : { type: 'string' };
      case 'BIGINT':
      case 'INTEGER':
        return { type: 'integer' };
      case 'DOUBLE':
        return { type: 'number' };
      case 'BOOLEAN':
        return { type: 'boolean' };
      case 'JSON':
        return {};
    }
  })();
  const typed = f.nullable && 'type' in base ? { ...base, type: [base.type, 'null'] } : base;
  return { ...typed, description: f.doc, ...(f.default !== undefined ? { default: f.default } : {}) };
}

export function jsonSchema(t: TableDef): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `servelab/${t.name}.schema.json`,
    title: t.name,
    description: `${t.doc}. Fields not listed are kept in "extra".`,
    type: 'object',
    properties: Object.fromEntries(Object.entries(t.fields).map(([n, f]) => [n, jsonType(f)])),
    required: Object.entries(t.fields)
      .filter(([, f]) => !f.nullable && f.default === undefined)
      .map(([n]) => n),
    additionalProperties: true,
  };
}

/** Every generated file: name → content. */
export function generatedFiles(): Record<string, string> {
  const files: Record<string, string> = { 'schema.sql': ddl() };
  for (const t of Object.values(tables)) files[`${t.name}.schema.json`] = JSON.stringify(jsonSchema(t), null, 2) + '\n';
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (process.argv.includes('--write')) {
    fs.mkdirSync(GENERATED_DIR, { recursive: true });
    for (const [name, content] of Object.entries(generatedFiles())) fs.writeFileSync(path.join(GENERATED_DIR, name), content);
    console.log(`wrote ${Object.keys(generatedFiles()).length} files to ${GENERATED_DIR}`);
  } else {
    process.stdout.write(ddl());
  }
}
