// Runs calls.py inside Pyodide under node, as xlwings Lite runs the functions in Excel.
// Usage: node run_in_pyodide.cjs CONFIG.json
// CONFIG: {pyodide: folder of the npm package, packages: local package folder, micropip: wheel path,
//          wheels: folder holding the project's and xlwings' wheels, project_wheel, xlwings_wheel,
//          harness: folder of calls.py, out: output JSON path,
//          sales_requirements: the lines of examples/lite/requirements.txt besides the project (pandas ...)}
// Nothing is fetched from Pyodide's CDN: packageBaseUrl is a local folder. micropip resolves the
// project's declared dependencies with xlwings already installed, so a dependency that only exists
// for CPython (one without an environment marker) makes this fail with micropip's own message.
// The sales-list functions' packages (pandas, SciPy, pyarrow) are Pyodide's own builds, published only on
// Pyodide's CDN: they are installed, as Lite installs the lines of requirements.txt, where their files
// have been put in the local package folder; else calls.py records what a call answers without them.
"use strict";
const fs = require("fs");
const path = require("path");
const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const { loadPyodide } = require(config.pyodide);

async function main() {
  const pyodide = await loadPyodide({
    packageCacheDir: config.packages,
    packageBaseUrl: config.packages.replace(/\/?$/, "/"),
  });
  for (const [where, root] of [["/wheels", config.wheels], ["/harness", config.harness],
                               ["/out", path.dirname(config.out)]]) {
    pyodide.FS.mkdirTree(where);
    pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root }, where);
  }
  await pyodide.loadPackage(config.micropip);
  const lock = JSON.parse(fs.readFileSync(path.join(config.pyodide, "pyodide-lock.json"), "utf8"));
  const closure = (names, seen = new Set()) => {
    for (const name of names) {
      if (!seen.has(name) && lock.packages[name]) { seen.add(name); closure(lock.packages[name].depends, seen); }
    }
    return seen;
  };
  const wanted = [...closure(config.sales_requirements)];
  config.install_sales = wanted.length > 0 &&
    wanted.every((name) => fs.existsSync(path.join(config.packages, lock.packages[name].file_name)));
  pyodide.globals.set("CONFIG", pyodide.toPy(config));
  await pyodide.runPythonAsync(`
import sys, micropip
await micropip.install("emfs:/wheels/" + CONFIG["xlwings_wheel"], deps=False)
await micropip.install("emfs:/wheels/" + CONFIG["project_wheel"], deps=True)
if CONFIG["install_sales"]:
    await micropip.install(CONFIG["sales_requirements"])
sys.path.insert(0, "/harness")
import calls
await calls.run("/out/" + CONFIG["out"].split("/")[-1])
`);
}

main().catch((error) => {
  console.error(String(error && error.message ? error.message : error).trim().split("\n").slice(-3).join("\n"));
  process.exit(1);
});
