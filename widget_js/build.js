// Bundles widget_js/src/ into the one served script, widget_js/widget.js (checked in, so the API
// serves it without Node). `node widget_js/build.js` writes it; `--check` rebuilds in memory and
// fails when the checked-in file differs (a source change without `npm run build`).
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { STRINGS } from "./src/strings/index.js";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const OUTPUT = here("./widget.js");
const BUDGET = 15 * 1024; // SPEC §13: gzipped, with every language and step

const BANNER = `/*! Meetings booking widget ${"\u00b7"} built from widget_js/src by \`npm run build\`; do not edit. */`;

// Every language has exactly the English keys: a missing one would show "undefined" to a visitor.
function checkDictionaries() {
  const reference = Object.keys(STRINGS.en).sort().join();
  const wrong = Object.entries(STRINGS).filter(([, strings]) => Object.keys(strings).sort().join() !== reference);
  if (wrong.length) throw new Error(`dictionaries whose keys differ from en: ${wrong.map(([name]) => name).join(", ")}`);
}

// `import css from "./styles.css"` gives the stylesheet as one minified string.
const cssAsText = {
  name: "css-as-text",
  setup(build) {
    build.onLoad({ filter: /\.css$/ }, async ({ path }) => {
      const { code } = await esbuild.transform(await readFile(path, "utf8"), { loader: "css", minify: true });
      return { contents: `export default ${JSON.stringify(code.trim())};`, loader: "js" };
    });
  },
};

async function bundle() {
  const result = await esbuild.build({
    entryPoints: [here("./src/main.js")],
    bundle: true,
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    banner: { js: BANNER },
    charset: "utf8",
    plugins: [cssAsText],
    write: false,
    logLevel: "warning",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

checkDictionaries();
const built = await bundle();
const size = gzipSync(built, { level: 9 }).length;
if (size > BUDGET) throw new Error(`widget.js is ${size} bytes gzipped, over the ${BUDGET} byte budget`);

if (process.argv.includes("--check")) {
  const current = await readFile(OUTPUT).catch(() => Buffer.alloc(0));
  if (!current.equals(built)) {
    console.error("widget_js/widget.js is not the build of widget_js/src: run `npm run build` and commit it.");
    process.exit(1);
  }
  console.log(`widget_js/widget.js is up to date (${built.length} bytes, ${size} gzipped)`);
} else {
  await writeFile(OUTPUT, built);
  console.log(`widget_js/widget.js: ${built.length} bytes, ${size} bytes gzipped (budget ${BUDGET})`);
}
