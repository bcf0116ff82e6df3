// Lints Cypher with Neo4j's own parser: `node lint.mjs SCHEMA.json FILE...` prints one JSON
// object per file ({file, problems: [{severity, message, line, column}]}) and exits 1 when any
// file has an error, a warning, or more than one statement. Runs offline.
import { readFileSync } from 'node:fs';
import { lintCypherQuery } from '@neo4j-cypher/language-support';

// Values are bound by the driver at run time; the linter cannot know them, so their
// "not defined" notices are dropped (the Python tests check each call's parameters).
const UNDECLARED_PARAMETER = /^Parameter \$\w+ is not defined\.$/;

const [schemaPath, ...files] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
let failed = false;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const { diagnostics, symbolTables } = lintCypherQuery(text, schema);
  const problems = diagnostics
    .filter((d) => !UNDECLARED_PARAMETER.test(d.message))
    .map((d) => ({
      severity: d.severity === 1 ? 'error' : 'warning',
      message: d.message,
      line: d.range.start.line + 1,
      column: d.range.start.character + 1,
    }));
  if (symbolTables.length !== 1) {
    problems.push({ severity: 'error', message: `${symbolTables.length} statements; one per file`, line: 1, column: 1 });
  }
  if (problems.length > 0) failed = true;
  console.log(JSON.stringify({ file, problems }));
}
process.exit(failed ? 1 : 0);
