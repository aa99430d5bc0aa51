// Type-checks every ```ts block of the READMEs and guides against the built packages (their published
// dist/*.d.ts), and runs the ones marked runnable, comparing what they print with the ```text block after
// them. A snippet that drifts from the API fails here. Run after `pnpm build`.
//   node scripts/check-docs.mjs [--keep] [FILE.md …]
//
// Sources: README.md, packages/*/README.md, apps/*/README.md, docs/**/*.md. Each ```ts block is its own
// module (so two blocks may both define `rnn`), strict, module NodeNext, importing the workspace packages by
// name. Free names for the user's data (`data`, `bytes`, `weightsFromPyTorch`, …) come from the shared
// prelude scripts/docs-prelude.d.ts; anything else a block takes from the text around it goes in a hidden
// HTML comment right before its fence (invisible on GitHub and npm; blank lines and other markers may sit
// between):
//   <!-- prelude: declare const rnn: import('@recurrent/nn').RNN; -->   TypeScript put before the block
//   <!-- docs: run -->            run the block (bundled with esbuild, on the built packages) and compare its
//                                 stdout with the next fenced block, which must be ```text, exactly
//   <!-- docs: skip (reason) -->  do not check the block; the reason is required and printed
// Not-TypeScript blocks (shell, Python, pseudo-code) take another fence language and are not looked at.
// A run block has only what it imports (preludes are declarations, nothing at run time) and runs with its
// Markdown file's folder as the working directory. A private app without published types (@recurrent/char-rnn)
// is checked through its source.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const only = args.filter((a) => !a.startsWith('--'));

// ---- which files

function markdownFiles() {
  if (only.length > 0) return only.map((f) => relative(root, resolve(f)));
  const files = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group)).sort()) {
      if (existsSync(join(root, group, dir, 'README.md'))) files.push(`${group}/${dir}/README.md`);
    }
  }
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files;
}

// ---- parsing: fenced blocks and the HTML comments before them

const TS = new Set(['ts', 'typescript', 'mts']);

/** Every fenced block of a Markdown file: its language, fence line (1-based), body, and the markers before it. */
function parseBlocks(file) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks = [];
  const problems = [];
  const used = new Set(); // the lines of the markers that sit before a block
  const markers = []; // the lines of every marker outside a block
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (/^\s*<!--\s*(docs|prelude):/.test(lines[i])) markers.push(i);
    if (!open) continue;
    const fence = open[1];
    const close = new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end])) end++;
    blocks.push({
      file,
      line: i + 1,
      end: end + 1,
      lang: open[2].toLowerCase(),
      body: lines.slice(i + 1, end),
      ...markersBefore(lines, i, file, problems, used),
    });
    i = end;
  }
  for (const i of markers.filter((i) => !used.has(i)))
    problems.push(
      `${file}:${i + 1}: a marker that is not right before a fenced block (only blank lines may sit between)`,
    );
  return { blocks, problems };
}

/** The `<!-- docs: … -->` and `<!-- prelude: … -->` comments directly above line `at` (blank lines between). */
function markersBefore(lines, at, file, problems, used) {
  const markers = { run: false, skip: null, prelude: [] };
  let j = at - 1;
  while (j >= 0) {
    if (lines[j].trim() === '') {
      j--;
      continue;
    }
    if (!lines[j].trimEnd().endsWith('-->')) break;
    let start = j;
    while (start >= 0 && !lines[start].includes('<!--')) start--;
    if (start < 0) break;
    used.add(start);
    const text = lines
      .slice(start, j + 1)
      .join('\n')
      .replace(/^[\s\S]*?<!--/, '')
      .replace(/-->\s*$/, '')
      .trim();
    const where = `${file}:${start + 1}`;
    const prelude = /^prelude:\s*([\s\S]*)$/.exec(text);
    const skip = /^docs:\s*skip\s*\((.+)\)$/s.exec(text);
    if (prelude) markers.prelude.unshift(prelude[1].trim());
    else if (/^docs:\s*run$/.test(text)) markers.run = true;
    else if (skip) markers.skip = skip[1].trim();
    else if (/^docs:/.test(text))
      problems.push(
        `${where}: unknown marker "<!-- ${text} -->" (docs: run, docs: skip (reason), prelude: …)`,
      );
    j = start - 1;
  }
  return markers;
}

// ---- the check project: a temporary folder whose node_modules links to the workspace packages

function workspacePackages() {
  const found = [];
  for (const group of ['packages', 'apps']) {
    for (const dir of readdirSync(join(root, group)).sort()) {
      const manifest = join(root, group, dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      if (pkg.name) found.push({ name: pkg.name, dir: join(root, group, dir), exports: pkg.exports ?? {} });
    }
  }
  return found;
}

function makeProject(work, modules) {
  const paths = {};
  const unbuilt = [];
  for (const pkg of workspacePackages()) {
    const types = Object.values(pkg.exports).flatMap((e) =>
      typeof e === 'object' && e !== null ? Object.entries(e).filter(([k]) => k.startsWith('types')) : [],
    );
    if (types.some(([, file]) => !existsSync(join(pkg.dir, file)))) unbuilt.push(pkg.name);
    const link = join(work, 'node_modules', pkg.name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(pkg.dir, link, 'junction');
    // A private app without published types (no `types` condition) is checked through its source.
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      if (
        typeof entry !== 'object' ||
        entry === null ||
        Object.keys(entry).some((k) => k.startsWith('types'))
      )
        continue;
      const source = entry['@recurrent/source'];
      if (source) paths[join(pkg.name, sub)] = [join(pkg.dir, source)];
    }
  }
  if (unbuilt.length > 0)
    throw new Error(`${unbuilt.join(', ')}: no built types (dist/*.d.ts); run \`pnpm build\` first`);
  mkdirSync(join(work, 'node_modules', '@types'), { recursive: true });
  symlinkSync(
    join(root, 'node_modules', '@types', 'node'),
    join(work, 'node_modules', '@types', 'node'),
    'dir',
  );
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({ name: 'docs-check', private: true, type: 'module' }),
  );
  cpSync(join(root, 'scripts', 'docs-prelude.d.ts'), join(work, 'docs-prelude.d.ts'));
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          paths,
        },
        files: ['docs-prelude.d.ts', ...modules],
      },
      null,
      2,
    ),
  );
}

// ---- main

const files = markdownFiles();
const problems = [];
const all = [];
for (const file of files) {
  const parsed = parseBlocks(file);
  all.push(...parsed.blocks);
  problems.push(...parsed.problems);
}
const ts = all.filter((b) => TS.has(b.lang));
for (const b of all) {
  if (!TS.has(b.lang) && (b.run || b.skip || b.prelude.length > 0))
    problems.push(`${b.file}:${b.line}: a docs marker before a \`\`\`${b.lang || '(no language)'} block`);
}
const skipped = ts.filter((b) => b.skip !== null);
const checked = ts.filter((b) => b.skip === null);
for (const b of checked.filter((b) => b.run)) {
  const next = all.find((o) => o.file === b.file && o.line > b.end);
  if (next?.lang !== 'text')
    problems.push(
      `${b.file}:${b.line}: marked "docs: run" but the next fenced block is not a \`\`\`text block`,
    );
  else b.expected = next.body.join('\n');
}

const work = mkdtempSync(join(tmpdir(), 'recurrent-docs-'));
const failures = [];
try {
  const names = new Set();
  for (const b of checked) {
    let name = `${b.file.replace(/[^\w.-]+/g, '_')}-L${b.line}.ts`;
    while (names.has(name)) name = `_${name}`;
    names.add(name);
    b.module = `blocks/${name}`;
    const head = [`// ${b.file}:${b.line}`, 'export {};', ...b.prelude.flatMap((p) => p.split('\n'))];
    b.offset = head.length;
    mkdirSync(join(work, 'blocks'), { recursive: true });
    writeFileSync(join(work, b.module), `${[...head, ...b.body].join('\n')}\n`);
  }
  makeProject(
    work,
    checked.map((b) => b.module),
  );

  // One tsc over all blocks; its errors mapped back to the Markdown lines.
  const tsc = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--pretty', 'false'],
    { cwd: work, encoding: 'utf8' },
  );
  const errors = [];
  for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (m)
      errors.push({ module: m[1].replaceAll('\\', '/'), line: +m[2], col: +m[3], code: m[4], text: m[5] });
    else if (line.trim() !== '' && errors.length > 0) errors[errors.length - 1].text += `\n${line}`;
    else if (line.trim() !== '') errors.push({ module: null, text: line });
  }
  if (tsc.status !== 0 && errors.length === 0)
    errors.push({ module: null, text: `tsc exited with ${tsc.status}` });
  for (const b of checked) {
    const mine = errors.filter((e) => e.module === b.module);
    if (mine.length === 0) continue;
    b.failed = true;
    const detail = mine.map((e) => {
      const inPrelude = e.line <= b.offset;
      const at = inPrelude
        ? `its prelude, line ${e.line - 2}`
        : `${b.file}:${b.line + e.line - b.offset}:${e.col}`;
      const source = inPrelude ? '' : `\n      > ${b.body[e.line - b.offset - 1]?.trim() ?? ''}`;
      return `    ${at} ${e.code}: ${e.text.replaceAll('\n', '\n      ')}${source}`;
    });
    failures.push(
      `✗ ${b.file}:${b.line} (the \`\`\`ts block there) does not typecheck:\n${detail.join('\n')}`,
    );
  }
  for (const e of errors.filter((e) => !checked.some((b) => b.module === e.module))) {
    failures.push(`✗ tsc: ${e.module ? `${e.module}(${e.line},${e.col}) ${e.code}: ` : ''}${e.text}`);
  }

  // Runnable blocks: bundled on the built packages (dist), run with the Markdown file's folder as cwd.
  for (const b of checked.filter((b) => b.run && b.expected !== undefined && !b.failed)) {
    const bundle = join(work, `${b.module}.mjs`);
    try {
      execFileSync(
        join(root, 'node_modules', '.bin', 'esbuild'),
        [
          b.module,
          '--bundle',
          '--platform=node',
          '--format=esm',
          '--external:webgpu',
          `--outfile=${bundle}`,
          '--log-level=error',
        ],
        { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (e) {
      failures.push(`✗ ${b.file}:${b.line}: esbuild could not bundle the block:\n${e.stderr ?? e.message}`);
      continue;
    }
    const ran = spawnSync(process.execPath, [bundle], {
      cwd: join(root, dirname(b.file)),
      encoding: 'utf8',
      timeout: 120_000,
    });
    const got = ran.stdout.replace(/\n$/, '');
    if (ran.status !== 0) {
      failures.push(
        `✗ ${b.file}:${b.line}: the block exited with ${ran.status ?? ran.signal}:\n${ran.stderr.trimEnd()}`,
      );
    } else if (got !== b.expected) {
      const indent = (s) => s.replaceAll(/^/gm, '      ');
      failures.push(
        `✗ ${b.file}:${b.line}: the block printed something else than the \`\`\`text block after it:\n` +
          `    printed:\n${indent(got)}\n    the text shows:\n${indent(b.expected)}`,
      );
    } else b.ranOk = true;
  }
} finally {
  if (keep) console.log(`kept the check project in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

for (const p of problems) failures.push(`✗ ${p}`);
for (const f of failures) console.log(`${f}\n`);
const perFile = files.map((f) => `${f} ${ts.filter((b) => b.file === f).length}`).join(', ');
console.log(`\`\`\`ts blocks: ${ts.length} (${perFile})`);
console.log(
  `  typechecked against the built packages: ${checked.length}, failing: ${checked.filter((b) => b.failed).length}`,
);
console.log(
  `  run and compared with their output: ${checked.filter((b) => b.ranOk).length} of ${checked.filter((b) => b.run).length}`,
);
console.log(`  skipped: ${skipped.length}`);
for (const b of skipped) console.log(`    ${b.file}:${b.line}: ${b.skip}`);
if (failures.length > 0) {
  console.log(`\ndocs check failed: ${failures.length} problem${failures.length === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log('docs check passed');
