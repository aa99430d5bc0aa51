import { runNotebook } from '@recurrent/notebook';

/** Renders the notebook's three cells for `seed` into `root`. */
export function renderNotebook(root: HTMLElement, seed: number): void {
  const cells = runNotebook(seed);
  root.replaceChildren(
    ...cells.map((cell, i) => {
      const section = document.createElement('article');
      section.className = 'cell';
      section.dataset.cell = String(i + 1);
      const title = document.createElement('h3');
      title.textContent = `[${i + 1}] ${cell.title}`;
      const python = document.createElement('pre');
      python.className = 'python';
      python.textContent = cell.python
        .split('\n')
        .map((l) => `>>> ${l}`)
        .join('\n');
      const out = document.createElement('pre');
      out.className = 'output';
      out.textContent = cell.lines.join('\n');
      section.append(title, python, out);
      return section;
    }),
  );
}
