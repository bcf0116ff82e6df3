// Lints Cypher with Neo4j's own parser: `node lint.mjs SCHEMA.json FILE...` prints one JSON
// object per file ({file, problems: [{severity, message, line, column}]}) and exits 1 when any
// file has an error, a warning, or more than one statement. Runs offline.
import { readFileSync } from 'node:fs';
import { lintCypherQuery } from '@neo4j-cypher/language-support';

// Values are bound by the driver at run time; the linter cannot know them, so their
// "not defined" notices are dropped (the Python tests check each call's parameters).
const UNDECLARED_PARAMETER = /^Parameter \$\w+ is not defined\.$/;

const description = ([name, type, fallback]) => ({
  name, type, description: name, isDeprecated: false, ...(fallback === undefined ? {} : { default: fallback }),
});

// The procedures and functions the statements may call (catalogue.json): with them the
// linter also rejects a misspelt name, a wrong argument count or an unknown YIELD column.
function registries(catalogue) {
  const procedures = {};
  const procedure = (name, args, yields) => ({
    name, description: name, mode: 'WRITE', worksOnSystem: false, admin: false,
    option: { deprecated: false }, signature: `${name}(${args.map((a) => a[0]).join(', ')})`,
    argumentDescription: args.map(description), returnDescription: yields.map(description),
  });
  for (const [name, p] of Object.entries(catalogue.procedures)) {
    procedures[name] = procedure(name, p.args, p.yields);
  }
  for (const name of catalogue.estimates) {
    procedures[`${name}.estimate`] = procedure(`${name}.estimate`, catalogue.estimateArgs, catalogue.estimateYields);
  }
  const functions = {};
  for (const [name, f] of Object.entries(catalogue.functions)) {
    functions[name] = {
      name, category: '', description: name, isBuiltIn: !name.includes('.'), isDeprecated: false,
      argumentDescription: f.args.map(description), returnDescription: f.returns,
      signature: `${name}(${f.args.map((a) => a[0]).join(', ')})`, aggregating: Boolean(f.aggregating),
    };
  }
  return { procedures, functions };
}

const [schemaPath, ...files] = process.argv.slice(2);
const catalogue = JSON.parse(readFileSync(new URL('./catalogue.json', import.meta.url), 'utf8'));
const { procedures, functions } = registries(catalogue);
const schema = {
  ...JSON.parse(readFileSync(schemaPath, 'utf8')),
  procedures: { 'CYPHER 5': procedures, 'CYPHER 25': procedures },
  functions: { 'CYPHER 5': functions, 'CYPHER 25': functions },
};
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
