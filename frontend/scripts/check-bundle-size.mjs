// The web app's first load: the JavaScript a browser fetches before the first page can render (the
// entry chunk and every chunk it imports statically; route chunks are fetched later), gzipped, against
// a budget. `npm run check` builds into a temporary directory for it (dist/ is what `make up` serves,
// so it is left alone); `node scripts/check-bundle-size.mjs --dist dist` measures an existing build
// made with `build.manifest` on.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The budget for the first load's JavaScript, gzipped (issue 14). */
export const BUDGET_BYTES = 200 * 1024;

/** The entry's JavaScript files and those it imports statically, from a Vite manifest. */
export function firstLoadFiles(manifest) {
  const entry = Object.values(manifest).find((chunk) => chunk.isEntry);
  if (!entry) throw new Error("the manifest has no entry chunk");
  const files = new Set();
  const visit = (chunk) => {
    if (files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const key of chunk.imports ?? []) visit(manifest[key]);
  };
  visit(entry);
  return { js: [...files], css: [...new Set([...files].flatMap((file) =>
    (Object.values(manifest).find((c) => c.file === file)?.css ?? [])))] };
}

// zlib's default level, as Vite's own build report (and most servers' gzip) use.
const gzipped = (path) => gzipSync(readFileSync(path)).length;
const kB = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;

async function main() {
  const at = process.argv.indexOf("--dist");
  let dist = at > 0 ? process.argv[at + 1] : null;
  let temporary = null;
  if (!dist) {
    const { build } = await import("vite");
    temporary = dist = mkdtempSync(join(tmpdir(), "kafkagram-size-"));
    await build({ logLevel: "warn", build: { outDir: dist, emptyOutDir: true, manifest: true, sourcemap: false } });
  }
  try {
    const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));
    const { js, css } = firstLoadFiles(manifest);
    const sizes = js.map((file) => [file, gzipped(join(dist, file))]);
    const total = sizes.reduce((sum, [, size]) => sum + size, 0);
    const cssTotal = css.reduce((sum, file) => sum + gzipped(join(dist, file)), 0);
    const lazy = Object.values(manifest).filter((c) => c.file.endsWith(".js") && !js.includes(c.file)).length;
    for (const [file, size] of sizes) console.log(`  ${file}  ${kB(size)} gzipped`);
    console.log(`first load: ${kB(total)} of JavaScript gzipped in ${js.length} files (budget ${kB(BUDGET_BYTES)}), `
      + `${kB(cssTotal)} of CSS; ${lazy} chunks load later`);
    if (total > BUDGET_BYTES) {
      console.error(`the first load is over its budget by ${kB(total - BUDGET_BYTES)}: load the new code lazily `
        + "(a route's page through `page()` in src/app/router.tsx) or make it smaller");
      process.exit(1);
    }
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}

await main();
