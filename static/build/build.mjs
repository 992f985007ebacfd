// Builds the two editor bundles: node build.mjs (or `make vendor`, which runs `npm ci` first).
// Each is one minified IIFE in static/vendor/ from an entry here and the packages pinned in
// package-lock.json:
//   codemirror-<@codemirror/view version>.min.js from entry.js (the answer editor), and
//   live-<yjs version>.min.js from live-entry.js (the live interview editor: the same CodeMirror
//   setup, editor-setup.js, plus Yjs, y-codemirror.next and the y-websocket client).
// The output depends only on those inputs (no paths, dates or source maps in it), so building
// twice gives the same bytes; the sha256s are recorded in static/vendor/README.md and checked by
// tests/test_vendor.py.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "vendor");
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const versionOf = (name) => lock.packages[`node_modules/${name}`].version;

// The runtime packages (the lockfile's non-dev ones) and their licences, kept in each bundle.
const locked = Object.entries(lock.packages)
  .filter(([path, entry]) => path.startsWith("node_modules/") && !entry.dev)
  .map(([path, entry]) => ({ name: path.slice("node_modules/".length), ...entry }))
  .sort((a, b) => (a.name < b.name ? -1 : 1));
const copyright = (name) => {
  const dir = join(here, "node_modules", name);
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  return file ? readFileSync(join(dir, file), "utf8").split("\n").find((l) => /copyright/i.test(l))?.trim() : undefined;
};
const bannerOf = (title, packages) => [
  `/*! ${title}, built by static/build/build.mjs from:`,
  ...packages.map((p) => ` * ${p.name} ${p.version} (${p.license}${copyright(p.name) ? `; ${copyright(p.name)}` : ""})`),
  " */",
].join("\n");

// A one-line patch of a package's source, checked: the build fails if the package changed and
// the line is no longer there exactly once.
const patch = (name, file, from, to) => ({ name, file, from, to });
const PATCHES = [
  // style-mod (CodeMirror's style injector) puts its rules in a <style> element when mounting in
  // a document, and uses a constructed stylesheet (document.adoptedStyleSheets) only in shadow
  // roots. The site's CSP (style-src 'self') blocks the <style> element, so the editor would be
  // unstyled; constructed stylesheets are not subject to style-src. This patch makes style-mod
  // use a constructed stylesheet for documents too. (style-mod avoids that because adopted
  // sheets come after the page's own in the cascade; static/css/editor.css is written for it.)
  patch("style-mod", "src/style-mod.js",
    "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {",
    "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"),
  // lib0 builds elements with setAttribute, and y-codemirror.next's remote caret sets its colour
  // with a style attribute that way, which the CSP blocks; through the CSSOM (style.cssText) it
  // is allowed (CodeMirror sets its decorations' styles the same way).
  patch("lib0", "dom.js",
    "      el.setAttribute(key, value)\n",
    "      if (key === 'style') el.style.cssText = value; else el.setAttribute(key, value)\n"),
];
const patches = {
  name: "checked-patches",
  setup(build) {
    for (const p of PATCHES) {
      const filter = new RegExp(`[\\\\/]node_modules[\\\\/]${p.name}[\\\\/]${p.file.replace(/[./]/g, (c) => `\\${c}`)}$`);
      build.onLoad({ filter }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (source.split(p.from).length !== 2) {
          throw new Error(`${p.name} changed: ${JSON.stringify(p.from)} not found once in ${args.path}; revisit the patch`);
        }
        return { contents: source.replace(p.from, p.to), loader: "js" };
      });
    }
  },
};

const BUNDLES = [
  { entry: "entry.js", prefix: "codemirror", version: versionOf("@codemirror/view"), title: "Rehearse code editor" },
  { entry: "live-entry.js", prefix: "live", version: versionOf("yjs"), title: "Rehearse live editor" },
];

const options = (entry) => ({
  entryPoints: [join(here, entry)],
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
  plugins: [patches],
});

// The packages a build took its code from (the banner lists exactly those).
function packagesOf(metafile) {
  const used = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) used.add(match[1]);
  }
  return locked.filter((p) => used.has(p.name));
}

const everyUsed = new Set();
for (const bundle of BUNDLES) {
  // Only one bundle of each kind at a time: an upgrade replaces the old file.
  for (const name of readdirSync(vendor)) {
    if (name.startsWith(`${bundle.prefix}-`) && name.endsWith(".min.js")) rmSync(join(vendor, name));
  }
  // A first pass finds the packages, for the banner; the second writes the file with it.
  const probe = await build({ ...options(bundle.entry), write: false });
  const packages = packagesOf(probe.metafile);
  const outfile = join(vendor, `${bundle.prefix}-${bundle.version}.min.js`);
  const result = await build({
    ...options(bundle.entry), outfile, banner: { js: bannerOf(`${bundle.title} ${bundle.version}`, packages) },
  });
  const inputs = Object.keys(result.metafile.inputs);
  for (const p of PATCHES) {
    if (!inputs.some((input) => input.endsWith(`${p.name}/${p.file}`)) && packages.some((q) => q.name === p.name)) {
      throw new Error(`${p.name} is bundled but not from ${p.file}: revisit its patch`);
    }
  }
  if (!inputs.some((input) => input.endsWith("style-mod/src/style-mod.js"))) {
    throw new Error(`style-mod is no longer in ${bundle.entry}'s bundle: revisit the adoptedStyleSheets patch`);
  }
  for (const p of packages) everyUsed.add(p.name);
  const bytes = readFileSync(outfile);
  console.log(`${relative(process.cwd(), outfile)}: ${bytes.length} bytes, sha256 ${createHash("sha256").update(bytes).digest("hex")}`);
  console.log(packages.map((p) => `  ${p.name} ${p.version}`).join("\n"));
}

// Every runtime package of the lockfile is in a bundle, and nothing else is, except these, which
// are installed but none of whose code the browser needs.
const NOT_BUNDLED = new Set([
  "isomorphic.js",  // lib0's Node.js/browser crypto shim, for lib0/isomorphic, which nothing imports
]);
const listed = locked.map((p) => p.name).filter((name) => !NOT_BUNDLED.has(name));
if (listed.join() !== [...everyUsed].sort().join()) {
  throw new Error(`bundled ${[...everyUsed].sort()} but the lockfile lists ${listed}`);
}
