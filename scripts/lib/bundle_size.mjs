// Sizes of the public-page bundle (every .wasm and .js in a pkg dir): raw, gzip -9 and
// brotli q11, as a CDN or a precompressing server would send them. Node's own zlib does both,
// so nothing needs installing. Exits 1 when wasm + js (brotli) is over the budget.
//   node bundle_size.mjs PKG_DIR BUDGET_BYTES
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const [dir, budgetArg] = process.argv.slice(2);
const budget = Number(budgetArg);
if (!dir || !Number.isInteger(budget) || budget <= 0) {
  console.error("usage: node bundle_size.mjs PKG_DIR BUDGET_BYTES");
  process.exit(2);
}

const files = readdirSync(dir).filter((f) => /\.(wasm|js)$/.test(f)).sort();
if (!files.some((f) => f.endsWith(".wasm")) || !files.some((f) => f.endsWith(".js"))) {
  console.error(`no .wasm and .js in ${dir}: did the build run?`);
  process.exit(2);
}

const kb = (n) => (n / 1000).toFixed(1).padStart(9);
const total = { raw: 0, gzip: 0, brotli: 0 };
console.log(`${"file".padEnd(44)} ${"raw KB".padStart(9)} ${"gzip KB".padStart(9)} ${"br KB".padStart(9)}`);
for (const f of files) {
  const bytes = readFileSync(join(dir, f));
  const size = {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
  for (const k of Object.keys(total)) total[k] += size[k];
  console.log(`${f.padEnd(44)} ${kb(size.raw)} ${kb(size.gzip)} ${kb(size.brotli)}`);
}
console.log(`${"total (wasm + js)".padEnd(44)} ${kb(total.raw)} ${kb(total.gzip)} ${kb(total.brotli)}`);
const verdict = total.brotli <= budget ? "within" : "OVER";
console.log(`brotli ${total.brotli} bytes: ${verdict} the budget of ${budget} bytes`);
process.exit(total.brotli <= budget ? 0 : 1);
