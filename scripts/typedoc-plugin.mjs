// The TypeDoc plugin of `pnpm run docs` (typedoc.json loads it):
// - each entry point's module is named by the specifier users import it from (`@recurrent/nn/webgpu`), read
//   from the published packages' export maps (their `@recurrent/source` condition), not by its source path;
//   a module whose file opens with a doc comment without `@module` takes that comment as its summary;
// - the Markdown pages (the README, docs/**/*.md) keep the links that work on GitHub: a relative link to a
//   folder or file of the repository that is not a page of the site (`../../apps/char-rnn`,
//   `../../scripts/gen_fixtures.py`) becomes a link to that path on GitHub; links between the pages, to
//   images beside them, and `{@link …}` to symbols are TypeDoc's own (checked, rewritten to the pages);
// - a guide without a `title` in its front matter is titled by its first `# heading`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Comment, Converter, MinimalSourceFile, ReflectionKind } from 'typedoc';

const root = fileURLToPath(new URL('..', import.meta.url));
const docsDir = join(root, 'docs');

function packageManifests() {
  return readdirSync(join(root, 'packages'))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')),
    }))
    .filter(({ manifest }) => !manifest.private);
}

/** The absolute source path of each public entry point → its import specifier. */
function specifiers() {
  const names = new Map();
  for (const { dir, manifest } of packageManifests()) {
    for (const [subpath, conditions] of Object.entries(manifest.exports ?? {})) {
      const source = conditions?.['@recurrent/source'];
      if (typeof source !== 'string') continue;
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
      names.set(resolve(root, 'packages', dir, source), specifier);
    }
  }
  return names;
}

/** `https://github.com/owner/repo`, from the packages' `repository` field. */
function repositoryUrl() {
  const url = packageManifests()[0]?.manifest.repository?.url;
  const match = /github\.com[/:]([^/]+\/[^/.]+)/.exec(url ?? '');
  if (!match) throw new Error(`typedoc-plugin: no GitHub repository in the packages' package.json (${url})`);
  return `https://github.com/${match[1]}`;
}

/** The text of the `/** … *\/` comment a file opens with (after `///` directives), or undefined. */
function leadingDocComment(text) {
  const match = /^(?:\s*\/\/\/[^\n]*\n)*\s*\/\*\*([\s\S]*?)\*\//.exec(text);
  return match?.[1]
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/**
 * Rewrites the relative links of a Markdown page that leave the site (a path of the repository outside
 * docs/ other than the README page) to GitHub. Targets that do not exist are left for TypeDoc to report.
 */
function linksToGitHub(text, fileName, readme, github) {
  const from = dirname(fileName);
  const rewrite = (target) => {
    if (/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target)) return target;
    const [path, anchor] = target.split(/(?=#)/);
    const absolute = resolve(from, decodeURI(path));
    const inRepo = absolute === root.slice(0, -1) || absolute.startsWith(root);
    if (!inRepo || !existsSync(absolute) || absolute === readme) return target;
    if (absolute === docsDir || absolute.startsWith(docsDir + sep)) return target;
    const kind = statSync(absolute).isDirectory() ? 'tree' : 'blob';
    return `${github}/${kind}/main/${relative(root, absolute).split(sep).join('/')}${anchor ?? ''}`;
  };
  let fence = null;
  return text
    .split('\n')
    .map((line) => {
      const open = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (fence) {
        if (open && open[1][0] === fence[0] && open[1].length >= fence.length) fence = null;
        return line;
      }
      if (open) {
        fence = open[1];
        return line;
      }
      return line
        .replace(/(\]\()(<[^>]*>|[^)\s]+)/g, (_, lead, target) =>
          target.startsWith('<') ? `${lead}<${rewrite(target.slice(1, -1))}>` : lead + rewrite(target),
        )
        .replace(/^( {0,3}\[[^\]]+\]:\s*)(\S+)/, (_, lead, target) => lead + rewrite(target))
        .replace(/(<(?:a|img)\s[^>]*?(?:href|src)=")([^"]+)/g, (_, lead, target) => lead + rewrite(target));
    })
    .join('\n');
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  const names = specifiers();
  const github = repositoryUrl();

  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const fileName = context.project.getSymbolIdFromReflection(reflection)?.fileName;
    const name = fileName && names.get(resolve(fileName));
    if (!name) return;
    reflection.name = name;
    if (reflection.comment) return;
    const text = leadingDocComment(readFileSync(fileName, 'utf8'));
    if (!text || /@module\b/.test(text)) return;
    const file = new MinimalSourceFile(text, fileName);
    reflection.comment = new Comment(context.converter.parseRawComment(file, app.files).content);
  });

  // The README and every project document are parsed here, before TypeDoc resolves their links.
  const parseRawComment = app.converter.parseRawComment.bind(app.converter);
  app.converter.parseRawComment = (file, files) => {
    if (!file.fileName.endsWith('.md')) return parseRawComment(file, files);
    const readme = resolve(app.options.getValue('readme'));
    const text = linksToGitHub(file.text, resolve(file.fileName), readme, github);
    return parseRawComment(new MinimalSourceFile(text, file.fileName), files);
  };

  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    if (document.frontmatter.title) return;
    const heading = document.content
      .map((part) => part.text)
      .join('')
      .match(/^# +(.+)$/m);
    if (heading) document.name = heading[1].replace(/`/g, '').trim();
  });
}
