// Checks that docs/migration.md covers the published API: every export of every published entry point
// (runtime exports from the built dist, type-only ones from the built .d.ts), every option of the
// `…Options` interfaces of @recurrent/tensor and @recurrent/nn (and its subpaths), and the public members
// of the classes a PyTorch user meets first (Tensor, Module and the recurrent modules, Optimizer, …).
// A name counts as mentioned when it appears as an identifier inside inline code (`clipGradNorm_(…)`);
// a name that several entry points export needs mentions on as many different lines. Run after `pnpm build`.
//   node scripts/check-migration.mjs [--list]      (--list prints what it checks, by entry point)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ts = createRequire(import.meta.url)(join(root, 'node_modules', 'typescript'));
const list = process.argv.includes('--list');
const doc = 'docs/migration.md';

/** Entry points whose `…Options` fields and class members are checked (the kernel packages: exports only). */
const DETAILED = new Set([
  '@recurrent/tensor',
  '@recurrent/nn',
  '@recurrent/nn/webgpu',
  '@recurrent/nn/node',
  '@recurrent/reference',
]);
/** Classes whose public members (methods, getters, fields) must each be mentioned. */
const MEMBERS_OF = new Set([
  'Tensor',
  'Module',
  'RecurrentBase',
  'RecurrentCellBase',
  'RNN',
  'LSTM',
  'GRU',
  'RNNCell',
  'LSTMCell',
  'GRUCell',
  'Linear',
  'Embedding',
  'Dropout',
  'Sequential',
  'RNNStream',
  'PackedSequence',
  'Optimizer',
  'LRScheduler',
  'Generator',
  'SafetensorsError',
]);

// ---- the published entry points: non-private packages, each `exports` entry with types and default

function entryPoints() {
  const out = [];
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const base = join(root, 'packages', dir);
    if (!existsSync(join(base, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8'));
    if (pkg.private) continue;
    for (const [sub, entry] of Object.entries(pkg.exports ?? {})) {
      if (typeof entry !== 'object' || entry === null || !entry.types || !entry.default) continue;
      const name = sub === '.' ? pkg.name : `${pkg.name}/${sub.replace(/^\.\//, '')}`;
      out.push({ name, types: join(base, entry.types), runtime: join(base, entry.default) });
    }
  }
  return out;
}

// ---- what each entry point exports, and the option fields and class members under them

function typeSurface(entries) {
  const program = ts.createProgram(
    entries.map((e) => e.types),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  const surface = new Map();
  for (const e of entries) {
    const file = program.getSourceFile(e.types);
    if (!file) throw new Error(`${e.name}: ${e.types} is missing; run \`pnpm build\` first`);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    const exports = moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : [];
    const names = exports.map((s) => s.getName());
    const options = [];
    const members = [];
    if (DETAILED.has(e.name)) {
      for (const s of exports) {
        const name = s.getName();
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        if (/Options$/.test(name) && target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) {
          const type = checker.getDeclaredTypeOfSymbol(target);
          for (const p of checker.getPropertiesOfType(type)) options.push(`${name}.${p.getName()}`);
        }
        if (MEMBERS_OF.has(name) && target.flags & ts.SymbolFlags.Class) {
          const instance = checker.getDeclaredTypeOfSymbol(target);
          const statics = checker.getTypeOfSymbolAtLocation(target, file);
          const visible = (p) => {
            const decl = p.valueDeclaration ?? p.declarations?.[0];
            if (p.getName().startsWith('_') || p.getName().startsWith('#') || p.getName() === 'prototype')
              return false;
            if (!decl) return true;
            const mods = ts.getCombinedModifierFlags(decl);
            if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
            return !ts.getJSDocTags(decl).some((t) => t.tagName.text === 'internal');
          };
          for (const p of checker.getPropertiesOfType(instance))
            if (visible(p)) members.push(`${name}.${p.getName()}`);
          for (const p of checker.getPropertiesOfType(statics))
            if (visible(p)) members.push(`${name}.${p.getName()}`);
        }
      }
    }
    surface.set(e.name, { names, options, members });
  }
  return surface;
}

// ---- what the page mentions: identifiers inside inline code, by line

function mentions(markdown) {
  const byName = new Map();
  const lines = markdown.split('\n');
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^ {0,3}(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    if (fenced) return;
    for (const code of line.matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)) {
      for (const id of code[2].matchAll(/[A-Za-z_$][\w$]*/g)) {
        if (!byName.has(id[0])) byName.set(id[0], new Set());
        byName.get(id[0]).add(i);
      }
    }
  });
  return byName;
}

// ---- main

const entries = entryPoints();
const surface = typeSurface(entries);
for (const e of entries) {
  const runtime = Object.keys(await import(pathToFileURL(e.runtime).href));
  const s = surface.get(e.name);
  const missingTypes = runtime.filter((n) => !s.names.includes(n));
  if (missingTypes.length > 0)
    throw new Error(`${e.name}: runtime exports missing from its .d.ts: ${missingTypes.join(', ')}`);
  s.runtime = new Set(runtime);
}
if (!existsSync(join(root, doc))) {
  console.log(`✗ ${doc} does not exist`);
  process.exit(1);
}
const seen = mentions(readFileSync(join(root, doc), 'utf8'));
const exporters = new Map();
for (const [entry, s] of surface) {
  for (const n of s.names) exporters.set(n, [...(exporters.get(n) ?? []), entry]);
}

const failures = [];
let checked = 0;
for (const [entry, s] of surface) {
  if (list) {
    console.log(`${entry}:`);
    console.log(`  exports: ${s.names.map((n) => (s.runtime.has(n) ? n : `type ${n}`)).join(', ')}`);
    if (s.options.length) console.log(`  options: ${s.options.join(', ')}`);
    if (s.members.length) console.log(`  members: ${s.members.join(', ')}`);
  }
  const missing = [];
  for (const n of s.names) {
    checked++;
    const lines = seen.get(n)?.size ?? 0;
    const need = exporters.get(n).length;
    if (lines === 0) missing.push(s.runtime.has(n) ? n : `type ${n}`);
    else if (lines < need)
      missing.push(`${n} (exported by ${exporters.get(n).join(', ')}: mention it on ${need} lines)`);
  }
  for (const qualified of [...s.options, ...s.members]) {
    checked++;
    const field = qualified.slice(qualified.indexOf('.') + 1);
    if (!seen.has(field)) missing.push(qualified);
  }
  if (missing.length > 0)
    failures.push(
      `✗ ${entry}: ${missing.length} not mentioned as inline code in ${doc}:\n    ${missing.join('\n    ')}`,
    );
}
for (const f of failures) console.log(`${f}\n`);
const counts = [...surface].map(
  ([entry, s]) =>
    `${entry} ${s.names.length}${s.options.length + s.members.length ? ` + ${s.options.length} options + ${s.members.length} members` : ''}`,
);
console.log(`migration table: ${checked} names checked (${counts.join(', ')})`);
if (failures.length > 0) {
  console.log('migration check failed');
  process.exit(1);
}
console.log('migration check passed');
