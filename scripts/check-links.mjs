// Checks the links of the generated API reference (`pnpm run docs` writes site/docs): every relative `href` and
// `src` of every HTML page must name a file of the site (a folder means its index.html), and every `#anchor`
// an id in the page it points to (HTML or SVG). External links are not fetched (CI has no network) but must
// be well-formed absolute URLs: http(s) with a host, or mailto. Links rooted at `/` are refused: the site is
// served under /docs/, so they would leave it.
//   node scripts/check-links.mjs [SITE_DIR]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const site = resolve(root, process.argv[2] ?? 'site/docs');
if (!existsSync(join(site, 'index.html'))) {
  console.error(`check-links: no ${relative(root, site)}/index.html; run \`pnpm run docs\` first`);
  process.exit(1);
}

function htmlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return htmlFiles(path);
    return entry.name.endsWith('.html') ? [path] : [];
  });
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decodeEntities = (text) =>
  text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity, name) => {
    if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? entity;
    return String.fromCodePoint(name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)));
  });

/** The ids (and `<a name>`s) of an HTML or SVG file, read once. */
const idCache = new Map();
function idsOf(file) {
  let ids = idCache.get(file);
  if (!ids) {
    const text = readFileSync(file, 'utf8');
    ids = new Set([...text.matchAll(/\s(?:id|name)="([^"]*)"/g)].map((m) => decodeEntities(m[1])));
    idCache.set(file, ids);
  }
  return ids;
}

/** What is wrong with one link of `page`, or undefined. */
function problem(page, link) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) {
    if (/^mailto:[^@\s]+@[^@\s]+$/i.test(link)) return undefined;
    try {
      const url = new URL(link.startsWith('//') ? `https:${link}` : link);
      if (!/^https?:$/.test(url.protocol)) return `external link with the scheme ${url.protocol}`;
      if (!url.hostname.includes('.')) return 'external link without a proper host';
      if (/\s/.test(link)) return 'external link with white space';
      return undefined;
    } catch {
      return 'malformed external link';
    }
  }
  if (link.startsWith('/')) return 'rooted at / (the site is served under /docs/)';
  const hash = link.indexOf('#');
  const path = (hash < 0 ? link : link.slice(0, hash)).replace(/\?.*$/, '');
  const anchor = hash < 0 ? undefined : link.slice(hash + 1);
  let target = path === '' ? page : resolve(dirname(page), decodeURI(path));
  if (relative(site, target).startsWith('..')) return 'leaves the site';
  if (existsSync(target) && statSync(target).isDirectory()) target = join(target, 'index.html');
  if (!existsSync(target)) return `no file ${relative(site, target)}`;
  if (anchor === undefined || anchor === '') return undefined;
  if (!['.html', '.svg'].includes(extname(target))) return `an anchor into ${extname(target) || 'a file'}`;
  const ids = idsOf(target);
  if (ids.has(anchor) || ids.has(decodeURIComponent(anchor))) return undefined;
  return `no id "${anchor}" in ${relative(site, target)}`;
}

const pages = htmlFiles(site).sort();
const problems = [];
let internal = 0;
let external = 0;
for (const page of pages) {
  // Script bodies hold code, not links (their `src` sits in the opening tag, which stays).
  const html = readFileSync(page, 'utf8').replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>');
  for (const match of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    const link = decodeEntities(match[1]);
    if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(link)) external++;
    else internal++;
    const why = problem(page, link);
    if (why) problems.push(`${relative(root, page)}: ${link} (${why})`);
  }
}

for (const line of problems) console.error(`  ${line}`);
const summary = `${pages.length} pages, ${internal} relative links and ${external} external links`;
if (problems.length > 0) {
  console.error(`check-links: ${problems.length} broken links in ${summary}`);
  process.exit(1);
}
console.log(`check-links: ${summary}, all well-formed and resolved`);
