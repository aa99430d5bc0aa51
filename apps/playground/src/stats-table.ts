/**
 * Fills a two-column table with `[label, value]` rows; each value cell carries its label as `data-key`, so
 * the e2e tests read values by name.
 */
export function fillStatsTable(table: HTMLElement, rows: readonly (readonly [string, string])[]): void {
  table.replaceChildren(
    ...rows.map(([k, v]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = v;
      td.dataset.key = k;
      tr.append(th, td);
      return tr;
    }),
  );
}
