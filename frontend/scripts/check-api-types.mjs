// Fails when src/lib/api-schema.d.ts is not what `npm run gen:api` makes from ../docs/openapi.json.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "kafkagram-api-"));
const fresh = join(dir, "api-schema.d.ts");
try {
  execFileSync("node", ["node_modules/openapi-typescript/bin/cli.js", "../docs/openapi.json", "-o", fresh],
    { stdio: ["ignore", "ignore", "inherit"] });
  const committed = readFileSync("src/lib/api-schema.d.ts", "utf8");
  if (committed !== readFileSync(fresh, "utf8")) {
    console.error("src/lib/api-schema.d.ts is out of date with docs/openapi.json: run `npm run gen:api`");
    process.exit(1);
  }
  console.log("api types: up to date with docs/openapi.json");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
