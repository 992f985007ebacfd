// Builds the code editor bundle: node build.mjs (or `make vendor`, which runs `npm ci` first).
// One minified IIFE, static/vendor/codemirror-<@codemirror/view version>.min.js, from entry.js
// and the packages pinned in package-lock.json. The output depends only on those inputs (no
// paths, dates or source maps in it), so building twice gives the same bytes; its sha256 is
// recorded in static/vendor/README.md and checked by tests/test_vendor.py.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "vendor");
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const version = lock.packages["node_modules/@codemirror/view"].version;
const outfile = join(vendor, `codemirror-${version}.min.js`);

// The bundle's packages (the lockfile's non-dev ones) and their licences, kept in the file.
const packages = Object.entries(lock.packages)
  .filter(([path, entry]) => path.startsWith("node_modules/") && !entry.dev)
  .map(([path, entry]) => ({ name: path.slice("node_modules/".length), ...entry }))
  .sort((a, b) => (a.name < b.name ? -1 : 1));
const copyright = (name) => {
  const dir = join(here, "node_modules", name);
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  return file ? readFileSync(join(dir, file), "utf8").split("\n").find((l) => /copyright/i.test(l))?.trim() : undefined;
};
const banner = [
  `/*! Rehearse code editor ${version}, built by static/build/build.mjs from:`,
  ...packages.map((p) => ` * ${p.name} ${p.version} (${p.license}${copyright(p.name) ? `; ${copyright(p.name)}` : ""})`),
  " */",
].join("\n");

// style-mod (CodeMirror's style injector) puts its rules in a <style> element when mounting in
// a document, and uses a constructed stylesheet (document.adoptedStyleSheets) only in shadow
// roots. The site's CSP (style-src 'self') blocks the <style> element, so the editor would be
// unstyled; constructed stylesheets are not subject to style-src. This one-line patch makes
// style-mod use a constructed stylesheet for documents too. (style-mod avoids that because
// adopted sheets come after the page's own in the cascade; static/css/editor.css is written
// for it.) The build fails if style-mod changes and the line is no longer there.
const STYLE_MOD_CHECK = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const adoptedStyleSheets = {
  name: "style-mod-adopted-style-sheets",
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (source.split(STYLE_MOD_CHECK).length !== 2) {
        throw new Error(`style-mod changed: "${STYLE_MOD_CHECK}" not found once in ${args.path}; revisit the patch`);
      }
      return { contents: source.replace(STYLE_MOD_CHECK, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"), loader: "js" };
    });
  },
};

// Only one bundle at a time: an upgrade replaces the old file.
for (const name of readdirSync(vendor)) {
  if (/^codemirror-.*\.min\.js$/.test(name)) rmSync(join(vendor, name));
}

const result = await build({
  entryPoints: [join(here, "entry.js")],
  outfile,
  bundle: true,
  format: "iife",
  minify: true,
  target: "es2020",
  platform: "browser",
  legalComments: "eof",
  sourcemap: false,
  metafile: true,
  logLevel: "warning",
  absWorkingDir: here,
  banner: { js: banner },
  plugins: [adoptedStyleSheets],
});

// Every package listed is in the bundle, and nothing else is.
if (!Object.keys(result.metafile.inputs).some((input) => input.endsWith("style-mod/src/style-mod.js"))) {
  throw new Error("style-mod is no longer in the bundle: revisit the adoptedStyleSheets patch");
}
const used = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) used.add(match[1]);
}
const listed = packages.map((p) => p.name);
if (listed.join() !== [...used].sort().join()) {
  throw new Error(`bundled ${[...used].sort()} but the lockfile lists ${listed}`);
}
const bytes = readFileSync(outfile);
console.log(`${relative(process.cwd(), outfile)}: ${bytes.length} bytes, sha256 ${createHash("sha256").update(bytes).digest("hex")}`);
console.log(packages.map((p) => `${p.name} ${p.version}`).join("\n"));
